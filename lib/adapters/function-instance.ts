import { serviceFromEnvironment } from '../service-from-env.js';
import type { Service } from '../service.js';

/** The built service and what was built on it; a build that failed is retried on the next call. */
export type FunctionInstance<T> = () => Promise<{ service: Service; built: T }>;

let shared: Promise<Service> | undefined;

/**
 * On its platform a process is one function's instance, and every handler it loads shares one
 * service: a function that also serves another Action (ActionDefinition.alsoServes) loads that
 * Action's module, whose own handlers are built too. A build that failed is not kept.
 */
function platformService(): Promise<Service> {
  shared ??= serviceFromEnvironment().catch((err: unknown) => {
    shared = undefined;
    throw err;
  });
  return shared;
}

/**
 * The service as a cloud function instance keeps it: built from the environment once, then reused
 * for the instance's life. With `eager` (the adapter runs on its platform), the build starts when
 * the module loads — during the platform's init phase, not on the first request — and the service
 * is the process's one ({@link platformService}). A build that fails is not kept, so the next call
 * tries again.
 */
export function functionInstance<T>(build: (service: Service) => T, options: { eager?: boolean } = {}): FunctionInstance<T> {
  let pending: Promise<{ service: Service; built: T }> | undefined;
  const serviceOf = options.eager ? platformService : serviceFromEnvironment;
  const instance = () => {
    pending ??= serviceOf()
      .then((service) => ({ service, built: build(service) }))
      .catch((err: unknown) => {
        pending = undefined;
        throw err;
      });
    return pending;
  };
  // The failure of an eager build is reported by the first request that needs the service.
  if (options.eager) instance().catch(() => undefined);
  return instance;
}

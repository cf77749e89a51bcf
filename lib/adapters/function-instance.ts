import { serviceFromEnvironment } from '../service-from-env.js';
import type { Service } from '../service.js';

/** The built service and what was built on it; a build that failed is retried on the next call. */
export type FunctionInstance<T> = () => Promise<{ service: Service; built: T }>;

/**
 * The service as a cloud function instance keeps it: built from the environment once, then reused
 * for the instance's life. With `eager` (the adapter runs on its platform), the build starts when
 * the module loads — during the platform's init phase, not on the first request. A build that
 * fails is not kept, so the next call tries again.
 */
export function functionInstance<T>(build: (service: Service) => T, options: { eager?: boolean } = {}): FunctionInstance<T> {
  let pending: Promise<{ service: Service; built: T }> | undefined;
  const instance = () => {
    pending ??= serviceFromEnvironment()
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

import type { RpcHandler } from '../middleware/stack.js';
import { serviceFromEnvironment } from '../service-from-env.js';
import type { Service } from '../service.js';

/**
 * The service and its handler as a cloud function instance keeps them: built from the environment
 * on the first invocation, then reused for the instance's life. A build that fails is not kept, so
 * the next invocation tries again.
 */
export function lazyService(build: (service: Service) => RpcHandler): () => Promise<{ service: Service; handle: RpcHandler }> {
  let built: Promise<{ service: Service; handle: RpcHandler }> | undefined;
  return () => {
    built ??= serviceFromEnvironment()
      .then((service) => ({ service, handle: build(service) }))
      .catch((err: unknown) => {
        built = undefined;
        throw err;
      });
    return built;
  };
}

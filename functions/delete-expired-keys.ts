import { destroyDueKeys } from '../lib/operations/scheduled.js';
import { serviceFromEnvironment } from '../lib/service-from-env.js';
import type { Service } from '../lib/service.js';

let service: Promise<Service> | undefined;

/**
 * Scheduled (not an RPC Action): destroys the material of keys whose deletion window has passed.
 * In the cloud a schedule invokes it; the local gateway runs the same job on a timer.
 */
export async function handler(): Promise<{ destroyed: string[] }> {
  service ??= serviceFromEnvironment();
  return { destroyed: await destroyDueKeys(await service) };
}

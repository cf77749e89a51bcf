import { rotateDueKeys } from '../lib/operations/scheduled.js';
import { serviceFromEnvironment } from '../lib/service-from-env.js';
import type { Service } from '../lib/service.js';

let service: Promise<Service> | undefined;

/**
 * Scheduled (not an RPC Action): rotates every key whose automatic rotation is due. In the cloud a
 * schedule invokes it; the local gateway runs the same job on a timer.
 */
export async function handler(): Promise<{ rotated: string[] }> {
  service ??= serviceFromEnvironment();
  return { rotated: await rotateDueKeys(await service) };
}

import { functionInstance } from '../lib/adapters/function-instance.js';
import { destroyDueKeys } from '../lib/operations/scheduled.js';

const instance = functionInstance(() => undefined, { eager: Boolean(process.env.AWS_LAMBDA_FUNCTION_NAME || process.env.FC_FUNCTION_NAME) });

/**
 * Scheduled (not an RPC Action): destroys the material of keys whose deletion window has passed.
 * In the cloud a schedule invokes it; the local gateway runs the same job on a timer. A run that
 * leaves a due key undestroyed fails (ScheduledJobError), so the platform counts an error and the
 * alarm sees it.
 */
export async function handler(): Promise<{ destroyed: string[] }> {
  return { destroyed: await destroyDueKeys((await instance()).service) };
}

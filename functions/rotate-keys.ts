import { functionInstance } from '../lib/adapters/function-instance.js';
import { rotateDueKeys } from '../lib/operations/scheduled.js';

const instance = functionInstance(() => undefined, { eager: Boolean(process.env.AWS_LAMBDA_FUNCTION_NAME || process.env.FC_FUNCTION_NAME) });

/**
 * Scheduled (not an RPC Action): rotates every key whose automatic rotation is due. In the cloud a
 * schedule invokes it; the local gateway runs the same job on a timer. A run that leaves a due key
 * unrotated fails (ScheduledJobError), so the platform counts an error and the alarm sees it.
 */
export async function handler(): Promise<{ rotated: string[] }> {
  return { rotated: await rotateDueKeys((await instance()).service) };
}

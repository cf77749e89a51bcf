import { destroyDueKeys, rotateDueKeys } from '../../lib/operations/scheduled.js';
import type { Service } from '../../lib/service.js';

/**
 * The local stand-in for the cloud schedules: runs key rotation and expired-key deletion (the same
 * functions the scheduled cloud functions run) at start and then every `intervalMs`, one run at a
 * time. Returns a stop function that waits for a run in progress.
 */
export function startScheduledJobs(service: Service, intervalMs: number): () => Promise<void> {
  let running: Promise<void> = Promise.resolve();
  const run = () => {
    running = running.then(async () => {
      // Each job runs whatever the other did: a failed rotation never holds back a deletion.
      for (const job of [rotateDueKeys, destroyDueKeys]) {
        try {
          await job(service);
        } catch (err) {
          service.logger.error('scheduled job failed', { job: job.name, error: (err as Error).message });
        }
      }
    });
  };
  run();
  const timer = setInterval(run, intervalMs);
  timer.unref();
  return async () => {
    clearInterval(timer);
    await running;
  };
}

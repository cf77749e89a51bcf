import type { Service } from '../../lib/service.js';

/**
 * SIGHUP, which never stops a gateway process (with TLS or without, primary or worker): from the
 * moment this is called the signal's default action (exit) is replaced. The returned function sets
 * what a SIGHUP does once the process serves; one that arrives before runs then. Hangups run one
 * at a time, in order.
 */
export function onHangup(): (handler: () => Promise<void>) => void {
  let handler: (() => Promise<void>) | undefined;
  let pending = false;
  let running: Promise<void> = Promise.resolve();
  const run = () => {
    running = running.then(() => handler!()).catch(() => undefined);
  };
  process.on('SIGHUP', () => {
    if (handler) run();
    else pending = true;
  });
  return (next) => {
    handler = next;
    if (pending) {
      pending = false;
      run();
    }
  };
}

/**
 * Opens this process's log files anew at their paths (KMS_AUDIT_LOG, KMS_ACCESS_LOG): after
 * logrotate renamed a file (create) or removed it, the following lines go to a new file at the path,
 * not to the old one. A file that cannot be opened is logged; the audit log then refuses requests
 * until it can be written (fail closed), as after any failed write.
 */
export async function reopenLogs(service: Service): Promise<void> {
  const [audit, access] = await Promise.allSettled([service.audit?.reopen?.(), service.logger.reopen?.()]);
  for (const [log, result] of [['audit', audit], ['access', access]] as const) {
    if (result.status === 'rejected') service.logger.error('log file not reopened', { log, error: (result.reason as Error).message });
  }
  service.logger.info('log files reopened', { pid: process.pid });
}

import type { Service } from '../../lib/service.js';

/*
 * SIGHUP, which never stops a gateway process (with TLS or without, primary or worker, `npm start`
 * or `kms serve`). Its default action (exit) is replaced as early as a process can: the entry points
 * (start.ts, bin/kms.mjs) call recordHangups() before they load anything else, so a SIGHUP that
 * comes while the gateway starts (logrotate's postrotate, `systemctl kill -s HUP` to every process
 * of the service) is recorded, and handled once the process serves. Only a signal that arrives
 * before node has run the entry's first line can still end it. This module loads nothing at run
 * time: it is what the entry points import first.
 */

interface Recorder {
  readonly listener: () => void;
  handler?: () => Promise<void>;
  /** A SIGHUP came before there was a handler. */
  pending: boolean;
  running: Promise<void>;
}

let recorder: Recorder | undefined;

function run(r: Recorder): void {
  r.running = r.running.then(() => r.handler!()).catch(() => undefined);
}

/** From now on a SIGHUP does not end this process: it is kept for the handler {@link onHangup} sets. Idempotent. */
export function recordHangups(): void {
  if (recorder) return;
  const r: Recorder = {
    pending: false,
    running: Promise.resolve(),
    listener: () => {
      if (r.handler) run(r);
      else r.pending = true;
    },
  };
  recorder = r;
  process.on('SIGHUP', r.listener);
}

/**
 * Gives SIGHUP back its default action, in a process that turned out not to be a gateway (a `kms`
 * command other than `serve`): one that was recorded meanwhile ends the process now, as it would
 * have. A process that set a handler keeps it.
 */
export function releaseHangups(): void {
  const r = recorder;
  if (!r || r.handler) return;
  recorder = undefined;
  process.removeListener('SIGHUP', r.listener);
  if (r.pending) process.kill(process.pid, 'SIGHUP');
}

/**
 * Sets what a SIGHUP does once the process serves; one that arrived before (since
 * {@link recordHangups}) runs now. Hangups run one at a time, in order; a failed one is ignored.
 */
export function onHangup(handler: () => Promise<void>): void {
  recordHangups();
  const r = recorder!;
  r.handler = handler;
  if (r.pending) {
    r.pending = false;
    run(r);
  }
}

/**
 * Opens this process's log files anew at their paths (KMS_AUDIT_LOG, KMS_ACCESS_LOG): after
 * logrotate renamed a file (create) or removed it, the following lines go to a new file at the path,
 * not to the old one. A file that cannot be opened is logged; the audit log then refuses requests
 * until it can be written (fail closed), as after any failed write.
 */
export async function reopenLogs(service: Service): Promise<void> {
  const [audit, access] = await Promise.allSettled([service.audit?.reopen?.(), service.logger.reopen?.()]);
  for (const [log, result] of [
    ['audit', audit],
    ['access', access],
  ] as const) {
    if (result.status === 'rejected') service.logger.error('log file not reopened', { log, error: (result.reason as Error).message });
  }
  service.logger.info('log files reopened', { pid: process.pid });
}

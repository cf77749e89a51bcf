import type { Worker } from 'node:cluster';
import type { AuditRecord } from '../../lib/audit/audit-log.js';
import { type AuditTrail, mergeNewestFirst, type RecentAuditRecords } from '../../lib/audit/recent-records.js';
import type { Channel, WorkerCalls } from './worker-calls.js';

/**
 * ListAuditEvents with gateway workers (KMS_WORKERS > 1): each process keeps its own recent audit
 * records (the workers their requests', the primary its scheduled jobs'), and nothing crosses
 * processes while requests are served. Only a ListAuditEvents pulls them together: the worker
 * serving it asks the primary (a worker call), the primary asks every live worker for its records
 * (a message over node:cluster's IPC channel), skips one that does not answer in time, and answers
 * them merged with its own, newest first.
 */
export const AUDIT_TRAIL = 'audit-trail';

/** The primary's question to a worker, and the worker's answer. */
const ASK = 'kms:audit-records?';
const ANSWER = 'kms:audit-records';

interface AskMessage {
  type: typeof ASK;
  id: number;
}
interface AnswerMessage {
  type: typeof ANSWER;
  id: number;
  records: AuditRecord[];
}

/** How long the primary waits for a worker's records before it answers without them. */
export const WORKER_RECORDS_TIMEOUT_MS = 1_000;

/** The worker's side of ListAuditEvents: every process's records, as the primary gathers them. */
export class RelayedAuditTrail implements AuditTrail {
  constructor(private readonly calls: WorkerCalls) {}

  async newestFirst(): Promise<AuditRecord[]> {
    const answer = await this.calls.call(AUDIT_TRAIL, null);
    if (!Array.isArray(answer)) throw new Error('malformed answer from the gateway primary');
    return answer as AuditRecord[];
  }
}

/** The primary's handler of a worker's {@link AUDIT_TRAIL} call. */
export function auditTrailHandler(trail: AuditTrail) {
  return async (): Promise<{ ok: AuditRecord[] }> => ({ ok: await trail.newestFirst() });
}

/** A worker's side of the primary's question: its own records, as they are when asked. */
export function answerAuditRecordQuestions(recent: RecentAuditRecords, channel: Channel = process as unknown as Channel): void {
  channel.on('message', (message) => {
    const m = message as Partial<AskMessage> | null;
    if (!m || m.type !== ASK || typeof m.id !== 'number') return;
    try {
      channel.send({ type: ANSWER, id: m.id, records: recent.snapshot() } satisfies AnswerMessage);
    } catch {
      // The primary is gone: nothing to answer.
    }
  });
}

let nextQuestion = 1;

/** One worker's records, or none when it does not answer within `timeoutMs` (or cannot be asked). */
function recordsOf(worker: Worker, timeoutMs: number): Promise<AuditRecord[]> {
  const id = nextQuestion++;
  return new Promise((resolve) => {
    const done = (records: AuditRecord[]) => {
      clearTimeout(timer);
      worker.off('message', onMessage);
      resolve(records);
    };
    const onMessage = (message: unknown) => {
      const m = message as Partial<AnswerMessage> | null;
      if (m?.type === ANSWER && m.id === id) done(Array.isArray(m.records) ? m.records.filter(isRecord) : []);
    };
    const timer = setTimeout(() => done([]), timeoutMs);
    worker.on('message', onMessage);
    if (!worker.isConnected()) return done([]);
    // The callback takes a failed send (the worker died meanwhile) instead of an 'error' event.
    worker.send({ type: ASK, id } satisfies AskMessage, undefined, {}, (err) => {
      if (err) done([]);
    });
  });
}

const isRecord = (value: unknown): value is AuditRecord =>
  typeof value === 'object' && value !== null && typeof (value as AuditRecord).time === 'string' && typeof (value as AuditRecord).code === 'string';

/**
 * The primary's trail: its own records and those of every live worker `workers()` lists, merged
 * newest first. A worker that does not answer within `timeoutMs` is left out.
 */
export function gatheredAuditTrail(own: RecentAuditRecords, workers: () => readonly Worker[], timeoutMs = WORKER_RECORDS_TIMEOUT_MS): AuditTrail {
  return {
    async newestFirst() {
      const theirs = await Promise.all(workers().map((worker) => recordsOf(worker, timeoutMs)));
      return mergeNewestFirst([own.snapshot(), ...theirs]);
    },
  };
}

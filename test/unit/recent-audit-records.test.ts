import { EventEmitter } from 'node:events';
import { describe, expect, it } from 'vitest';
import type { AuditRecord } from '../../lib/audit/audit-log.js';
import { mergeNewestFirst, RECENT_AUDIT_RECORDS, RecentAuditRecords, RecordingAuditLog } from '../../lib/audit/recent-records.js';
import { AUDIT_TRAIL, answerAuditRecordQuestions, auditTrailHandler, gatheredAuditTrail, RelayedAuditTrail } from '../../infra/gateway/audit-trail-relay.js';
import { answerWorkerCalls, WorkerCalls } from '../../infra/gateway/worker-calls.js';

const record = (n: number, time = `2026-01-01T00:00:${String(n % 60).padStart(2, '0')}.000Z`): AuditRecord => ({
  time,
  type: 'request',
  requestId: `r${n}`,
  code: 'OK',
});
const ids = (records: AuditRecord[]) => records.map((r) => r.requestId);

describe('RecentAuditRecords', () => {
  it('keeps 1,000 records by default', () => {
    expect(new RecentAuditRecords().capacity).toBe(RECENT_AUDIT_RECORDS);
    expect(RECENT_AUDIT_RECORDS).toBe(1_000);
  });

  it('answers newest first, and once full drops the oldest for each new record', async () => {
    const ring = new RecentAuditRecords(3);
    expect(ring.snapshot()).toEqual([]);
    ring.add(record(1));
    ring.add(record(2));
    expect(ids(ring.snapshot())).toEqual(['r2', 'r1']);
    ring.add(record(3));
    ring.add(record(4));
    expect(ids(ring.snapshot())).toEqual(['r4', 'r3', 'r2']);
    for (let n = 5; n <= 11; n++) ring.add(record(n));
    expect(ring.size).toBe(3);
    expect(ids(await ring.newestFirst())).toEqual(['r11', 'r10', 'r9']);
  });

  it('hands out a copy: records added later do not change it', () => {
    const ring = new RecentAuditRecords(2);
    ring.add(record(1));
    const before = ring.snapshot();
    ring.add(record(2));
    ring.add(record(3));
    expect(ids(before)).toEqual(['r1']);
  });

  it.each([0, -1, 1.5, Number.NaN])('refuses a capacity of %s', (capacity) => {
    expect(() => new RecentAuditRecords(capacity)).toThrow(/positive integer/);
  });
});

describe('mergeNewestFirst', () => {
  it('orders by time, newest first; records of one millisecond keep their order, sources in the order given', () => {
    const a = [record(5, 't3'), record(4, 't2'), record(3, 't1')];
    const b = [record(9, 't4'), record(8, 't2'), record(7, 't0')];
    expect(ids(mergeNewestFirst([a, b]))).toEqual(['r9', 'r5', 'r4', 'r8', 'r3', 'r7']);
    expect(mergeNewestFirst([])).toEqual([]);
  });
});

describe('RecordingAuditLog', () => {
  it('keeps a record once its line was written, and not when the write failed', async () => {
    const ring = new RecentAuditRecords();
    let fail = false;
    const log = new RecordingAuditLog(
      {
        write: async () => {
          if (fail) throw new Error('disk full');
        },
        ready: async () => undefined,
        close: async () => undefined,
      },
      ring,
    );
    await log.write(record(1));
    fail = true;
    await expect(log.write(record(2))).rejects.toThrow('disk full');
    expect(ids(ring.snapshot())).toEqual(['r1']);
    await expect(log.reopen()).resolves.toBeUndefined();
  });
});

/** A primary and its workers over in-memory channels, through JSON as node:cluster's IPC. */
function fakeCluster(workerRings: Array<RecentAuditRecords | 'silent'>, primaryRing: RecentAuditRecords) {
  const json = (m: unknown) => JSON.parse(JSON.stringify(m));
  const workers = workerRings.map((ring) => {
    const toWorker = new EventEmitter();
    const worker = Object.assign(new EventEmitter(), {
      isConnected: () => true,
      send: (message: unknown, _handle?: unknown, _options?: unknown, callback?: (err: Error | null) => void) => {
        setImmediate(() => toWorker.emit('message', json(message)));
        callback?.(null);
        return true;
      },
    });
    const channel = {
      on: (event: 'message', listener: (m: unknown) => void) => toWorker.on(event, listener),
      send: (message: unknown) => {
        setImmediate(() => worker.emit('message', json(message)));
        return true;
      },
    };
    // A silent worker never answers the primary's question (it hangs, or has not started).
    if (ring !== 'silent') answerAuditRecordQuestions(ring, channel);
    return { worker, channel };
  });
  const trail = gatheredAuditTrail(primaryRing, () => workers.map((w) => w.worker as never), 100);
  for (const { worker } of workers) answerWorkerCalls(worker as never, { [AUDIT_TRAIL]: auditTrailHandler(trail) });
  return workers.map(({ channel }) => new RelayedAuditTrail(new WorkerCalls(channel, { timeoutMs: 2_000 })));
}

describe('Gateway workers: ListAuditEvents sees every process', () => {
  it("a worker's trail is every worker's records and the primary's, merged newest first", async () => {
    const [w1, w2, primary] = [new RecentAuditRecords(), new RecentAuditRecords(), new RecentAuditRecords()];
    w1.add(record(1, 't1'));
    w2.add(record(2, 't2'));
    w1.add(record(3, 't3'));
    primary.add({ time: 't4', type: 'job', action: 'RotateKey', code: 'OK' });
    w2.add(record(5, 't5'));
    const [relay1, relay2] = fakeCluster([w1, w2], primary);
    const expected = ['r5', undefined, 'r3', 'r2', 'r1'];
    expect(ids(await relay1!.newestFirst())).toEqual(expected);
    expect(ids(await relay2!.newestFirst())).toEqual(expected);
  });

  it('a worker that does not answer is skipped after the timeout', async () => {
    const [w1, primary] = [new RecentAuditRecords(), new RecentAuditRecords()];
    w1.add(record(1, 't1'));
    primary.add(record(2, 't2'));
    const [relay1] = fakeCluster([w1, 'silent'], primary);
    const started = Date.now();
    expect(ids(await relay1!.newestFirst())).toEqual(['r2', 'r1']);
    expect(Date.now() - started).toBeGreaterThanOrEqual(90);
  });

  it('a primary that does not answer fails the call (the Action answers 503), never a partial list', async () => {
    const silent = new WorkerCalls({ on: () => undefined, send: () => true }, { timeoutMs: 50 });
    await expect(new RelayedAuditTrail(silent).newestFirst()).rejects.toThrow(/did not answer/);
  });
});

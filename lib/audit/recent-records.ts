import type { AuditLog, AuditRecord } from './audit-log.js';

/** How many audit records a process keeps for ListAuditEvents unless told otherwise. */
export const RECENT_AUDIT_RECORDS = 1_000;

/**
 * The audit records a deployment can serve (ListAuditEvents), newest first. The local gateway
 * keeps one (its processes' recent records); the cloud functions keep none: their audit lines go
 * where the platform collects function output, and an instance sees only its own requests.
 */
export interface AuditTrail {
  newestFirst(): Promise<AuditRecord[]>;
}

/**
 * The most recent audit records of this process, at most `capacity` of them (the oldest is dropped
 * for a new one): a ring, so adding costs the same however full it is. It holds the records as
 * written to the audit log, which never carry secrets.
 */
export class RecentAuditRecords implements AuditTrail {
  readonly capacity: number;
  readonly #ring: AuditRecord[] = [];
  /** Where the next record goes once the ring is full: the oldest record's slot. */
  #next = 0;

  constructor(capacity: number = RECENT_AUDIT_RECORDS) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new Error(`the capacity of the recent audit records must be a positive integer, not ${capacity}`);
    this.capacity = capacity;
  }

  add(record: AuditRecord): void {
    if (this.#ring.length < this.capacity) {
      this.#ring.push(record);
      return;
    }
    this.#ring[this.#next] = record;
    this.#next = (this.#next + 1) % this.capacity;
  }

  get size(): number {
    return this.#ring.length;
  }

  /** The records held, newest first (a copy: later additions do not change it). */
  snapshot(): AuditRecord[] {
    const ring = this.#ring;
    const out: AuditRecord[] = new Array(ring.length);
    // Oldest at #next (0 until the ring is full), newest just before it.
    for (let i = 0; i < ring.length; i++) out[i] = ring[(this.#next - 1 - i + 2 * ring.length) % ring.length]!;
    return out;
  }

  async newestFirst(): Promise<AuditRecord[]> {
    return this.snapshot();
  }
}

/**
 * An audit log that also keeps each record it wrote in `recent`: once `inner` wrote it, so the
 * records kept are exactly the lines written (a line that could not be written refused its
 * request, which then answered 503, not what the record says).
 */
export class RecordingAuditLog implements AuditLog {
  constructor(
    readonly inner: AuditLog,
    readonly recent: RecentAuditRecords,
  ) {}

  async write(record: AuditRecord): Promise<void> {
    await this.inner.write(record);
    this.recent.add(record);
  }

  ready(): Promise<void> {
    return this.inner.ready();
  }

  async reopen(): Promise<void> {
    await this.inner.reopen?.();
  }

  close(): Promise<void> {
    return this.inner.close();
  }
}

/**
 * Records from several sources (each newest first) as one list, newest first by `time`; records of
 * the same millisecond keep their order, sources in the order given.
 */
export function mergeNewestFirst(sources: readonly (readonly AuditRecord[])[]): AuditRecord[] {
  // Array.prototype.sort is stable.
  return sources.flat().sort((a, b) => (a.time < b.time ? 1 : a.time > b.time ? -1 : 0));
}

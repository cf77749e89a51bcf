import type { Worker } from 'node:cluster';
import { ServiceUnavailableError } from '../../lib/errors.js';
import type { NonceStore } from '../../lib/auth/nonce-store.js';
import { countNonces } from '../../lib/metrics/metrics.js';

/**
 * Replay protection for gateway workers (KMS_WORKERS > 1): every worker hands its nonce claims to
 * the primary, whose one replay store (the data directory's journal, or the backend's table)
 * decides them, so a nonce accepted through one worker is refused through every other, exactly
 * as on one process. The primary answers a claim only once its store has (durably) recorded it.
 *
 * It replaces each worker taking the journal's cross-process lock in turn, which made two workers
 * slower than one. The claims of one turn of a worker's event loop travel in one message.
 */
const CLAIMS = 'kms:nonce-claims';
const RESULTS = 'kms:nonce-results';
/** A claim not answered within this is refused (503): the primary is gone or stuck. */
const ANSWER_TIMEOUT_MS = 10_000;

interface ClaimsMessage {
  type: typeof CLAIMS;
  id: number;
  claims: Array<[accessKeyId: string, nonce: string, expiresAt: number]>;
}
interface ResultsMessage {
  type: typeof RESULTS;
  id: number;
  /** One per claim: true fresh, false a replay, null not decided (the store failed). */
  results: Array<boolean | null>;
  /** The primary's replay store, for this worker's metrics. */
  size: number;
  bytes: number;
}

/** The worker's side: a NonceStore that asks the primary. */
export class RelayedNonceStore implements NonceStore {
  #nextId = 1;
  #batch: { message: ClaimsMessage; settle: Array<{ resolve: (fresh: boolean) => void; reject: (err: unknown) => void }> } | undefined;
  readonly #waiting = new Map<number, { settle: Array<{ resolve: (fresh: boolean) => void; reject: (err: unknown) => void }>; timer: NodeJS.Timeout }>();
  /** What the primary last reported (kms_nonces_held on this worker). */
  size = 0;
  bytes = 0;

  readonly #answerTimeoutMs: number;

  constructor(
    private readonly channel: { send(message: unknown): boolean; on(event: 'message', listener: (message: unknown) => void): unknown } = process as never,
    options: { answerTimeoutMs?: number } = {},
  ) {
    this.#answerTimeoutMs = options.answerTimeoutMs ?? ANSWER_TIMEOUT_MS;
    channel.on('message', (message) => this.#onMessage(message));
    countNonces(this);
  }

  claim(accessKeyId: string, nonce: string, expiresAt: number): Promise<boolean> {
    return new Promise((resolve, reject) => {
      if (!this.#batch) {
        const batch = { message: { type: CLAIMS, id: this.#nextId++, claims: [] } as ClaimsMessage, settle: [] as Array<{ resolve: (fresh: boolean) => void; reject: (err: unknown) => void }> };
        this.#batch = batch;
        setImmediate(() => {
          this.#batch = undefined;
          this.#send(batch.message, batch.settle);
        });
      }
      this.#batch.message.claims.push([accessKeyId, nonce, expiresAt]);
      this.#batch.settle.push({ resolve, reject });
    });
  }

  #send(message: ClaimsMessage, settle: Array<{ resolve: (fresh: boolean) => void; reject: (err: unknown) => void }>): void {
    const timer = setTimeout(() => this.#fail(message.id, new Error('the gateway primary did not answer the nonce claims')), this.#answerTimeoutMs);
    this.#waiting.set(message.id, { settle, timer });
    try {
      this.channel.send(message);
    } catch (err) {
      this.#fail(message.id, err);
    }
  }

  #fail(id: number, cause: unknown): void {
    const waiting = this.#waiting.get(id);
    if (!waiting) return;
    this.#waiting.delete(id);
    clearTimeout(waiting.timer);
    for (const s of waiting.settle) s.reject(new ServiceUnavailableError({ cause }));
  }

  #onMessage(message: unknown): void {
    const m = message as Partial<ResultsMessage> | null;
    if (!m || m.type !== RESULTS || typeof m.id !== 'number' || !Array.isArray(m.results)) return;
    const waiting = this.#waiting.get(m.id);
    if (!waiting) return;
    this.#waiting.delete(m.id);
    clearTimeout(waiting.timer);
    this.size = m.size ?? this.size;
    this.bytes = m.bytes ?? this.bytes;
    waiting.settle.forEach((s, i) => {
      const result = m.results![i];
      if (typeof result === 'boolean') s.resolve(result);
      else s.reject(new ServiceUnavailableError({ cause: new Error('the replay store could not record the nonce') }));
    });
  }
}

/** The primary's side: decides every worker's claims with `nonces` (the primary's replay store). */
export function answerNonceClaims(worker: Worker, nonces: NonceStore & { readonly size?: number; readonly bytes?: number }): void {
  worker.on('message', (message: unknown) => {
    const m = message as Partial<ClaimsMessage> | null;
    if (!m || m.type !== CLAIMS || typeof m.id !== 'number' || !Array.isArray(m.claims)) return;
    void Promise.all(
      m.claims.map(([accessKeyId, nonce, expiresAt]) =>
        nonces.claim(accessKeyId, nonce, expiresAt).then(
          (fresh) => fresh,
          () => null,
        ),
      ),
    ).then((results) => {
      if (!worker.isConnected()) return;
      worker.send({ type: RESULTS, id: m.id!, results, size: nonces.size ?? 0, bytes: nonces.bytes ?? 0 } satisfies ResultsMessage);
    });
  });
}

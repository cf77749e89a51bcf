import type { Worker } from 'node:cluster';

/**
 * Calls from a gateway worker to its primary over node:cluster's IPC channel, batched: the calls
 * of one kind made in one turn of the worker's event loop travel in one message, and come back
 * in one. A call the primary does not answer within the timeout is rejected.
 */
export interface Channel {
  send(message: unknown): boolean;
  on(event: 'message', listener: (message: unknown) => void): unknown;
}

const CALLS = 'kms:calls';
const ANSWERS = 'kms:answers';

interface CallsMessage {
  type: typeof CALLS;
  kind: string;
  id: number;
  items: unknown[];
}
/** One answer per item: `{ ok }` or `{ error }` (the primary's error, as data). */
type Answer = { ok: unknown } | { error: unknown };
interface AnswersMessage {
  type: typeof ANSWERS;
  id: number;
  answers: Answer[];
}

interface Waiter {
  resolve(value: unknown): void;
  reject(err: unknown): void;
}

export class WorkerCalls {
  readonly #channel: Channel;
  readonly #timeoutMs: number;
  #nextId = 1;
  readonly #batches = new Map<string, { message: CallsMessage; waiters: Waiter[] }>();
  readonly #waiting = new Map<number, { waiters: Waiter[]; timer: NodeJS.Timeout }>();

  constructor(channel: Channel = process as unknown as Channel, options: { timeoutMs?: number } = {}) {
    this.#channel = channel;
    this.#timeoutMs = options.timeoutMs ?? 10_000;
    channel.on('message', (message) => this.#onAnswers(message));
  }

  /** Sends `item` to the primary's handler for `kind`; settles with its answer. */
  call(kind: string, item: unknown): Promise<unknown> {
    return new Promise((resolve, reject) => {
      let batch = this.#batches.get(kind);
      if (!batch) {
        const created = { message: { type: CALLS, kind, id: this.#nextId++, items: [] } as CallsMessage, waiters: [] as Waiter[] };
        this.#batches.set(kind, created);
        setImmediate(() => {
          this.#batches.delete(kind);
          this.#send(created.message, created.waiters);
        });
        batch = created;
      }
      batch.message.items.push(item);
      batch.waiters.push({ resolve, reject });
    });
  }

  #send(message: CallsMessage, waiters: Waiter[]): void {
    const timer = setTimeout(() => this.#fail(message.id, new Error('the gateway primary did not answer')), this.#timeoutMs);
    this.#waiting.set(message.id, { waiters, timer });
    try {
      this.#channel.send(message);
    } catch (err) {
      this.#fail(message.id, err);
    }
  }

  #fail(id: number, err: unknown): void {
    const waiting = this.#waiting.get(id);
    if (!waiting) return;
    this.#waiting.delete(id);
    clearTimeout(waiting.timer);
    for (const w of waiting.waiters) w.reject(err);
  }

  #onAnswers(message: unknown): void {
    const m = message as Partial<AnswersMessage> | null;
    if (!m || m.type !== ANSWERS || typeof m.id !== 'number' || !Array.isArray(m.answers)) return;
    const waiting = this.#waiting.get(m.id);
    if (!waiting) return;
    this.#waiting.delete(m.id);
    clearTimeout(waiting.timer);
    waiting.waiters.forEach((w, i) => {
      const answer = m.answers![i];
      if (answer && 'ok' in answer) w.resolve(answer.ok);
      else w.reject(answer && 'error' in answer ? answer.error : new Error('the gateway primary sent no answer for this call'));
    });
  }
}

/** The primary's side: answers `worker`'s calls of each kind with `handlers[kind]`, item by item. */
export function answerWorkerCalls(worker: Worker, handlers: Record<string, (item: unknown) => Promise<Answer>>): void {
  worker.on('message', (message: unknown) => {
    const m = message as Partial<CallsMessage> | null;
    if (!m || m.type !== CALLS || typeof m.id !== 'number' || typeof m.kind !== 'string' || !Array.isArray(m.items)) return;
    const handler = Object.hasOwn(handlers, m.kind) ? handlers[m.kind]! : undefined;
    void Promise.all(
      m.items.map((item) =>
        handler ? handler(item).catch((error: unknown) => ({ error: String(error) })) : Promise.resolve({ error: `no handler for ${m.kind}` }),
      ),
    ).then((answers) => {
      // The callback takes a failed send (the worker died meanwhile) instead of an 'error' event.
      if (worker.isConnected()) worker.send({ type: ANSWERS, id: m.id!, answers } satisfies AnswersMessage, undefined, {}, () => undefined);
    });
  });
}

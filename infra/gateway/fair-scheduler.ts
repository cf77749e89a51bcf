/**
 * Runs the requests of many connections fairly: each connection has one request in service at a
 * time (HTTP/1.1 answers in order anyway) and waits its turn in a round robin with the others,
 * with at most `maxInService` requests in service in all. So one client pipelining 50,000
 * requests gets one turn in each round, like everyone else, and a client with one request waits
 * for at most one request of each other connection, never for the pipeline.
 *
 * A connection whose queue grows past `pauseAt` has its socket paused (no more requests are read
 * from it) until its queue drops to `resumeAt`; see {@link FairScheduler.enqueue}.
 */
export class FairScheduler {
  readonly #maxInService: number;
  #inService = 0;
  /** Connections with queued requests, in round-robin order. */
  readonly #ready: Lane[] = [];

  constructor(options: { maxInService: number }) {
    this.#maxInService = options.maxInService;
  }

  /** The lane of a connection (kept on the socket's object, which outlives its requests). */
  lane(connection: object, flow: { pause(): void; resume(): void }): Lane {
    let lane = lanes.get(connection);
    if (!lane) lanes.set(connection, (lane = new Lane(flow)));
    return lane;
  }

  /** Queues `work` on `lane`; it runs when its turn comes. */
  enqueue(lane: Lane, work: () => Promise<void>): void {
    lane.queue.push(work);
    // Every time: the HTTP server may have resumed the socket on its own (its write side drained).
    if (lane.queue.length >= PAUSE_AT) {
      lane.paused = true;
      lane.flow.pause();
    }
    if (!lane.busy && !lane.waiting) {
      lane.waiting = true;
      this.#ready.push(lane);
    }
    this.#pump();
  }

  #pump(): void {
    while (this.#inService < this.#maxInService && this.#ready.length > 0) {
      const lane = this.#ready.shift()!;
      lane.waiting = false;
      const work = lane.queue.shift();
      if (!work) continue;
      if (lane.paused && lane.queue.length <= RESUME_AT) {
        lane.paused = false;
        lane.flow.resume();
      }
      lane.busy = true;
      this.#inService++;
      void work()
        .catch(() => undefined)
        .finally(() => {
          this.#inService--;
          lane.busy = false;
          if (lane.queue.length > 0) {
            lane.waiting = true;
            this.#ready.push(lane);
          }
          // Next turn after the event loop has read the other sockets: a request that needs no I/O
          // would otherwise chain into the next one without ever letting another client in.
          setImmediate(() => this.#pump());
        });
    }
  }
}

/** Queued requests of one connection at which its socket stops being read, and resumes. */
const PAUSE_AT = 32;
const RESUME_AT = 8;

const lanes = new WeakMap<object, Lane>();

export class Lane {
  readonly queue: Array<() => Promise<void>> = [];
  busy = false;
  waiting = false;
  paused = false;
  constructor(readonly flow: { pause(): void; resume(): void }) {}
}

import { vi } from 'vitest';

/** One network call as the recorder saw it: which service and command, and when it started and ended (event numbers). */
export interface RecordedCall {
  service: string;
  command: string;
  start: number;
  end: number | undefined;
}

/**
 * Records the network calls of AWS SDK v3 clients (every instance of a client class, built
 * wherever) and measures how many of them a caller waits for one after the other: the critical
 * path's depth. Time is not measured: each start and end gets the next number of one counter, so
 * two calls overlap when one started before the other ended, whatever the machine's speed. (The
 * code under test starts concurrent calls in one turn of the event loop, before any answer can
 * arrive, so the depth is deterministic.)
 */
export class CallRounds {
  readonly calls: RecordedCall[] = [];
  #clock = 0;

  /** Wraps `send` of a client class (after any aws-sdk-client-mock stub on it); undone by vi.restoreAllMocks(). */
  record(clientClass: { prototype: { send: (...args: never[]) => unknown } }, service: string): this {
    const prototype = clientClass.prototype as { send: (command: object, ...rest: unknown[]) => Promise<unknown> };
    const original = prototype.send;
    if (vi.isMockFunction(original)) throw new Error(`${service}: send is recorded already (one CallRounds per test; reset() it between phases)`);
    const rounds = this;
    vi.spyOn(prototype, 'send').mockImplementation(function (this: unknown, command: object, ...rest: unknown[]) {
      const call: RecordedCall = { service, command: command.constructor.name.replace(/Command$/, ''), start: ++rounds.#clock, end: undefined };
      rounds.calls.push(call);
      const settle = () => {
        call.end = ++rounds.#clock;
      };
      const sent = Promise.resolve(original.call(this, command, ...rest));
      sent.then(settle, settle);
      return sent;
    });
    return this;
  }

  /** Forgets the calls recorded so far (the next phase is measured on its own). */
  reset(): void {
    this.calls.length = 0;
  }

  /**
   * The calls by round: round 1 holds the calls that waited for no other call, round n those
   * that started after a call of round n − 1 ended. Each round lists `Service.Command` names in
   * order. The number of rounds is the critical path's depth.
   */
  rounds(): string[][] {
    const depth = new Map<RecordedCall, number>();
    const ordered = [...this.calls].sort((a, b) => a.start - b.start);
    for (const call of ordered) {
      if (call.end === undefined) throw new Error(`${call.service}.${call.command} has not ended: await the work before counting its rounds`);
      let after = 0;
      for (const earlier of ordered) if (earlier.end! < call.start) after = Math.max(after, depth.get(earlier)!);
      depth.set(call, after + 1);
    }
    const rounds: string[][] = [];
    for (const call of ordered) {
      const round = depth.get(call)! - 1;
      rounds[round] = [...(rounds[round] ?? []), `${call.service}.${call.command}`];
    }
    return rounds;
  }
}

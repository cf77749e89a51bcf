import { type Certificates, decodePair, encodePair, type PairMessage } from './certificates.js';
import type { TlsOptions } from './tls.js';
import type { WorkerCalls } from './worker-calls.js';

/** A worker's call for what the primary has done on SIGHUP: {@link HangupState}. */
export const HANGUP_STATE = 'hangup-state';

/** How many SIGHUPs the primary has handled, and the certificate pair it serves (with TLS). */
export interface HangupState {
  generation: number;
  pair?: TlsOptions;
}

interface HangupStateMessage {
  generation: number;
  pair?: PairMessage;
}

/**
 * The primary's count of the SIGHUPs it has handled, which lets a worker catch up with one it was
 * not sent. The primary signals only workers that listen (before, the signal could end one); a
 * worker asks for the state before it opens its log files and again once it listens: when the
 * generation changed in between, logrotate may have renamed the files it had just opened, or the
 * certificate was renewed, and it reopens its logs and takes the pair as a signalled one does.
 */
export class HangupGeneration {
  #generation = 0;

  constructor(private readonly certificates: Certificates | undefined) {}

  /** Counts a SIGHUP: after the primary's part (the certificate reloaded), before it signals the workers. */
  advance(): void {
    this.#generation++;
  }

  /** The primary's answer to a worker's {@link HANGUP_STATE} call. */
  readonly answer = async (): Promise<{ ok: HangupStateMessage }> => ({
    ok: { generation: this.#generation, ...(this.certificates ? { pair: encodePair(this.certificates.current) } : {}) },
  });
}

/** A worker's side: the primary's {@link HangupState} now. */
export async function hangupStateFromPrimary(calls: WorkerCalls): Promise<HangupState> {
  const m = (await calls.call(HANGUP_STATE, null)) as HangupStateMessage | null;
  if (typeof m?.generation !== 'number') throw new Error('malformed hangup state from the gateway primary');
  return { generation: m.generation, ...(m.pair !== undefined ? { pair: decodePair(m.pair) } : {}) };
}

import type { Socket } from 'node:net';

/**
 * The gateway's open connections and whether each is idle (no request begun on it), for a drain
 * that neither waits out idle keep-alive connections nor resets a client that is sending its next
 * request on one.
 */
export class Connections {
  /** Requests begun and not yet answered, per connection. */
  readonly #inFlight = new Map<Socket, number>();
  /** When each idle connection became idle (accepted, or its last answer finished). */
  readonly #idleSince = new Map<Socket, number>();
  /** Over TLS, the TCP sockets underneath (one still in its handshake has no TLS socket yet). */
  readonly #transport = new Set<Socket>();

  get size(): number {
    return this.#inFlight.size;
  }

  accepted(socket: Socket): void {
    this.#inFlight.set(socket, 0);
    this.#idleSince.set(socket, Date.now());
    socket.once('close', () => {
      this.#inFlight.delete(socket);
      this.#idleSince.delete(socket);
    });
  }

  /** A TCP connection under a TLS one: closed with the rest when the grace is up. */
  transportAccepted(socket: Socket): void {
    this.#transport.add(socket);
    socket.once('close', () => this.#transport.delete(socket));
  }

  requestBegun(socket: Socket): void {
    if (!this.#inFlight.has(socket)) return;
    this.#inFlight.set(socket, this.#inFlight.get(socket)! + 1);
    this.#idleSince.delete(socket);
  }

  requestEnded(socket: Socket): void {
    const before = this.#inFlight.get(socket);
    if (before === undefined) return;
    const left = before - 1;
    this.#inFlight.set(socket, left);
    if (left === 0) this.#idleSince.set(socket, Date.now());
  }

  /**
   * Closes every connection idle for at least `minIdleMs`. The margin is the client's: one that
   * got an answer a moment ago may already have its next request on the wire, and closing under
   * it would reset that request; one idle for longer is in the position a keep-alive timeout
   * leaves it in, which every HTTP client handles.
   */
  closeIdle(minIdleMs: number): void {
    const now = Date.now();
    for (const [socket, since] of this.#idleSince) if (now - since >= minIdleMs) socket.destroy();
  }

  destroyAll(): void {
    for (const socket of this.#inFlight.keys()) socket.destroy();
    for (const socket of this.#transport) socket.destroy();
  }
}

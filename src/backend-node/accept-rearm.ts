/**
 * `AcceptRearm`: on a runtime whose `node:net` server stops accepting for good once an accept
 * fails (Deno 2.9: after an EMFILE its accept loop is never polled again, and no 'error' is
 * emitted), the listening handle is told to listen again — which re-arms the accept of the
 * same socket, same port, same queue — whenever one of its connections closes (a descriptor
 * is free again) and, for any other cause, once a second while the socket is open.
 * @module
 */
import type { Server, Socket } from "node:net";

/** How often an open listener is re-armed whatever happens (ms). */
const REARM_EVERY_MS = 1000;

interface ListenHandle {
  listen(backlog: number): number;
}

/** Re-arms `server`'s accept: on {@link watch}ed connections' close, and once a second. */
export class AcceptRearm {
  readonly #server: Server;
  readonly #backlog: number;
  readonly #timer: NodeJS.Timeout;
  /** Re-arms the accept (bound: given to every watched connection). */
  readonly rearm = (): void => {
    const server = this.#server;
    const h = (server as unknown as { _handle?: ListenHandle | null })._handle;
    if (h === null || h === undefined || !server.listening) return;
    h.listen(this.#backlog);
  };

  constructor(server: Server, backlog: number) {
    this.#server = server;
    this.#backlog = backlog;
    this.#timer = setInterval(this.rearm, REARM_EVERY_MS);
    this.#timer.unref();
  }

  /** Re-arms once `raw` (a connection of this server) has closed. */
  watch(raw: Socket): void {
    raw.once("close", this.rearm);
  }

  /** Stops the periodic re-arm (the server is closing). */
  stop(): void {
    clearInterval(this.#timer);
  }
}

/**
 * `SocketDuplex`: a thin `Duplex` over a connected `net.Socket`, so that `node:tls` runs over a
 * JavaScript stream (and so can be told a close_notify from a cut connection, see
 * `tls/over-flow.ts`) with as little as possible between the socket and the TLS engine: no
 * fiber, no promise, the socket's own chunks.
 *
 * Over the socket's handle directly, Node's TLS engine reports the peer's FIN without a
 * close_notify as the same end-of-file as a clean close (its `TLSWrap` emits one EOF either
 * way); only over a JavaScript stream does the end reach JavaScript before the engine.
 * @module
 */
import type { Socket } from "node:net";
import { Duplex } from "node:stream";
import type { EndWatched } from "../tls/flow-duplex.ts";

/** A `Duplex` whose reads are `raw`'s chunks and whose writes go to `raw`. */
export class SocketDuplex extends Duplex implements EndWatched {
  readonly #raw: Socket;
  #sawEnd = false;
  beforeEnd: (() => Promise<void> | undefined) | null = null;

  constructor(raw: Socket) {
    super({ allowHalfOpen: true });
    this.#raw = raw;
    raw.on("data", (chunk: Buffer) => {
      if (!this.push(chunk)) raw.pause();
    });
    raw.on("end", () => {
      this.#sawEnd = true;
      const wait = this.beforeEnd?.();
      if (wait === undefined) this.push(null);
      else
        wait.then(() => {
          if (!this.destroyed) this.push(null);
        });
    });
    raw.on("error", (e) => this.destroy(e));
    raw.on("close", () => {
      // After the peer's end, what is still buffered here goes on to the TLS engine
      if (!this.#sawEnd && !this.destroyed) this.destroy();
    });
  }

  /** Calls `fn` on the next turn of the event loop. */
  afterTurn(fn: () => void): void {
    setImmediate(fn);
  }

  override _read(): void {
    this.#raw.resume();
  }

  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (e?: Error | null) => void): void {
    this.#raw.write(chunk, cb);
  }

  override _writev(chunks: Array<{ chunk: Buffer }>, cb: (e?: Error | null) => void): void {
    const raw = this.#raw;
    raw.cork();
    const last = chunks.length - 1;
    for (let i = 0; i < last; i++) raw.write((chunks[i] as { chunk: Buffer }).chunk);
    raw.write((chunks[last] as { chunk: Buffer }).chunk, cb);
    raw.uncork();
  }

  override _final(cb: (e?: Error | null) => void): void {
    this.#raw.end(() => cb());
  }

  override _destroy(err: Error | null, cb: (e?: Error | null) => void): void {
    this.#raw.destroy();
    cb(err);
  }
}

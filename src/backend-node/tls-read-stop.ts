/**
 * `deferReadStop`: on a runtime whose TLS sockets lose the peer's end of stream when reading
 * stops just before it (Deno 2.9), the TLS handle's `readStop` runs a microtask later.
 *
 * Deno's TLS layer hands a chunk and then the end of stream over in one go: when the chunk
 * fills the socket's buffer, Node's stream code stops reading in between, and Deno drops the
 * end that follows (the socket never ends, a read after the peer's `shutdown("send")` waits
 * for ever). Stopping a microtask later lets that end through; reading still stops before any
 * more comes from the kernel, so the socket's buffer stays as bounded as it was.
 * @module
 */
import type { TLSSocket } from "node:tls";

interface StreamHandle {
  reading?: boolean;
  readStop(): number;
}

/** Makes `tls`'s handle stop reading a microtask after it is told to (unless reading again). */
export function deferReadStop(tls: TLSSocket): void {
  const handle = (tls as unknown as { _handle?: StreamHandle | null })._handle;
  if (handle === null || handle === undefined || typeof handle.readStop !== "function") return;
  const stop = handle.readStop;
  handle.readStop = function (this: StreamHandle): number {
    queueMicrotask(() => {
      if (this.reading !== true && !tls.destroyed) stop.call(this);
    });
    return 0;
  };
}

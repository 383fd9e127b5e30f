/**
 * Standard input and output as weir flows (through the Node-stream adapters), and the
 * `nc`-style pump between them and a socket that `weir connect` and `weir listen` share.
 * @module
 */
import { awaitCancellable, type Clock, EndOfFile, Fiber, IoError } from "../core/index.ts";
import { Flow, type Sink, type Source } from "../flow/index.ts";
import type { StreamSocket } from "../net/index.ts";

/** Standard input as a source and standard output as a sink. */
export interface Stdio {
  /** Standard input: reads reach end-of-file when it ends. */
  readonly stdin: Source;
  /** Standard output. */
  readonly stdout: Sink;
}

let stdio: Stdio | undefined;

/**
 * The process's standard input and output as flows, made on first use (opening stdin
 * starts reading it only when a read is asked for).
 * @example
 * ```ts
 * await Flow.copy(processStdio().stdin, socket);
 * ```
 */
export function processStdio(): Stdio {
  stdio ??= {
    stdin: Flow.fromNodeReadable(process.stdin),
    stdout: Flow.fromNodeWritable(process.stdout),
  };
  return stdio;
}

/**
 * How long standard input may stay quiet, once the peer has ended its side, before `pump`
 * stops waiting for more of it (ms).
 */
export const LINGER_MS = 250;

/** Options of {@link pump}. */
export interface PumpOptions {
  /** The clock of the linger time. */
  readonly clock: Clock;
  /** See {@link LINGER_MS} (the default). */
  readonly lingerMs?: number | undefined;
}

/**
 * Copies `io.stdin` to `conn` and `conn` to `io.stdout` at the same time, as `nc` does.
 * When standard input ends, the socket is half-closed (the peer reads end-of-file) and the
 * copy the other way goes on. When the peer ends its side first, the rest of standard input
 * is still sent (a half-closed peer goes on reading), until it ends or stays quiet for
 * `lingerMs`: input that is there is never dropped.
 * @throws IoError if the connection fails (reset by the peer, ...), with the context
 *   `sending standard input (N bytes sent)` if standard input was not all sent.
 */
export async function pump(conn: StreamSocket, io: Stdio, opts: PumpOptions): Promise<void> {
  const lingerMs = opts.lingerMs ?? LINGER_MS;
  const peerEnded = Promise.withResolvers<void>();
  const quiet = async (): Promise<null> => {
    await awaitCancellable(peerEnded.promise);
    await opts.clock.sleep(lingerMs);
    return null;
  };
  let sent = 0;
  let allSent = false;
  try {
    await Fiber.both(
      async () => {
        const buf = new Uint8Array(64 * 1024);
        for (;;) {
          let n: number | null;
          try {
            n = await Fiber.first(() => io.stdin.readInto(buf), quiet);
          } catch (e) {
            if (!(e instanceof EndOfFile)) throw e;
            allSent = true;
            await conn.shutdown("send");
            return;
          }
          if (n === null) {
            allSent = true; // the peer is done and standard input has nothing more
            return;
          }
          await conn.write([buf.subarray(0, n)]);
          sent += n;
        }
      },
      async () => {
        await Flow.copy(conn, io.stdout);
        peerEnded.resolve();
      },
    );
  } catch (e) {
    // whichever direction saw the failure first, say how much input got through
    if (e instanceof IoError && !allSent)
      e.addContext(`sending standard input (${sent} bytes sent)`);
    throw e;
  }
}

/**
 * Standard input and output as weir flows (through the Node-stream adapters), and the
 * `nc`-style pump between them and a socket that `weir connect` and `weir listen` share.
 * @module
 */
import { Fiber } from "../core/index.ts";
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
 * Copies `io.stdin` to `conn` and `conn` to `io.stdout` at the same time, as `nc` does.
 * When standard input ends, the socket is half-closed (the peer reads end-of-file) and the
 * copy the other way goes on; when the peer ends its side, the pump returns (standard input
 * is no longer read).
 * @throws IoError if the connection fails (reset by the peer, ...).
 */
export async function pump(conn: StreamSocket, io: Stdio): Promise<void> {
  await Fiber.first(
    async () => {
      await Flow.copy(io.stdin, conn);
      await conn.shutdown("send");
      return await Fiber.awaitCancel();
    },
    async () => {
      await Flow.copy(conn, io.stdout);
    },
  );
}

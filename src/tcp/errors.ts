/**
 * The errors of `Tcp` (Async's `Tcp`, `Reader` and `Writer` failures). Everything else a Tcp
 * operation throws is a core error: `IoError` (with context lines), `Cancelled`, `RangeError` /
 * `TypeError` for bad arguments.
 * @module
 */
import { IoError } from "../core/index.ts";

export { WriterBufferAgeExceeded, WriterBufferLimitExceeded } from "../flow/buf-write/index.ts";

/**
 * A connection attempt did not finish within its `timeout` (Async's "connection attempt
 * timeout"). It is an `IoError` of kind `ConnectionFailure`, reason `Timeout`, so code that
 * handles network failures in general handles it too; its message reads
 * ```
 * Net ConnectionFailure Timeout: connection attempt timeout after 30000 ms
 *   connecting to tcp:10.0.0.1:80
 * ```
 * The half-open socket has been closed when this is thrown.
 * @example
 * ```ts
 * try {
 *   await Tcp.connect(Tcp.WhereToConnect.hostAndPort("10.255.255.1", 80), { timeout: 100 });
 * } catch (e) {
 *   if (e instanceof ConnectionAttemptTimeout) traceln("gave up after %d ms", e.timeoutMs);
 * }
 * ```
 */
export class ConnectionAttemptTimeout extends IoError {
  /** The limit that was reached, in ms. */
  readonly timeoutMs: number;

  constructor(timeoutMs: number, context: readonly string[] = []) {
    super(
      {
        kind: "ConnectionFailure",
        reason: "Timeout",
        cause: `connection attempt timeout after ${timeoutMs} ms`,
      },
      context,
    );
    this.name = "ConnectionAttemptTimeout";
    this.timeoutMs = timeoutMs;
  }
}

/**
 * A connection attempt was stopped by its `interrupt` (an `AbortSignal` that aborted or a
 * promise that settled) before the connection was established (Async's "connection attempt
 * aborted"). `cause` is the signal's reason (or the promise's value or error). The half-open
 * socket has been closed when this is thrown.
 * @example
 * ```ts
 * const ac = new AbortController();
 * const p = Tcp.connect(where, { interrupt: ac.signal });
 * ac.abort(new Error("user pressed ^C"));
 * await p; // rejects: ConnectionAttemptAborted: connection attempt aborted ...
 * ```
 */
export class ConnectionAttemptAborted extends Error {
  /** Where the connection was going (`tcp:127.0.0.1:80`, `"example.com":80`). */
  readonly address: string;

  constructor(address: string, cause?: unknown) {
    super(
      `connection attempt aborted\n  connecting to ${address}`,
      cause === undefined ? undefined : { cause },
    );
    this.name = "ConnectionAttemptAborted";
    this.address = address;
  }
}

/**
 * A `Reader` was asked to read while another read on it had not finished (Async allows one
 * read at a time: the bytes would otherwise go to either reader at random).
 * @example
 * ```ts
 * const a = reader.readLine();
 * await reader.readLine(); // throws ReaderBusy
 * ```
 */
export class ReaderBusy extends Error {
  constructor(op: string) {
    super(`Reader.${op}: another read on this reader has not finished (one read at a time)`);
    this.name = "ReaderBusy";
  }
}

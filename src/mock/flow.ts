/**
 * Mock flows (Eio's `Eio_mock.Flow`): stream sockets whose reads are scripted and whose
 * writes, shutdowns and closes are traced.
 * @module
 */

import { type BlockingOptions, EndOfFile, IoError, type Switch } from "../core/index.ts";
import type { ShutdownCommand, Source } from "../flow/types.ts";
import { checkTimeout, FnIdleWatch } from "../net/deadlines.ts";
import { Ipaddr, Sockaddr, type StreamAddr, type StreamSocket } from "../net/index.ts";
import { publishIdleTimeout } from "../net/metrics.ts";
import type { Action } from "./action.ts";
import { checkReadBuffer, checkShutdownCommand, checkWriteBuffers } from "./checks.ts";
import { pair } from "./flow-pair.ts";
import { Handler, type ScriptOptions } from "./handler.ts";
import { toBytes, trace, traceData } from "./trace.ts";

/** Options of {@link Flow.make}. */
export interface MockFlowOptions {
  /** What `localAddr` reports (default `tcp:0.0.0.0:0`). */
  readonly localAddr?: StreamAddr | undefined;
  /** What `peerAddr` reports (default `tcp:0.0.0.0:0`). */
  readonly peerAddr?: StreamAddr | undefined;
}

/** The first `n` bytes of `bufs`, as a list of (sub)buffers. */
function takeBytes(bufs: readonly Uint8Array[], n: number): Uint8Array[] {
  const out: Uint8Array[] = [];
  let left = n;
  for (const b of bufs) {
    if (left === 0) break;
    if (b.length === 0) continue;
    const part = b.length <= left ? b : b.subarray(0, left);
    out.push(part);
    left -= part.length;
  }
  return out;
}

/** `bufs` without its first `n` bytes. */
function dropBytes(bufs: readonly Uint8Array[], n: number): Uint8Array[] {
  const out: Uint8Array[] = [];
  let left = n;
  for (const b of bufs) {
    if (left >= b.length) {
      left -= b.length;
      continue;
    }
    out.push(left > 0 ? b.subarray(left) : b);
    left = 0;
  }
  return out;
}

/**
 * A mock stream socket. Reads return what `Mock.Flow.onRead` scripts (end-of-file by default),
 * traced as `label: read "..."`; writes are traced as `label: wrote "..."` (in pieces of at most
 * `onCopyBytes` bytes, 4096 by default); `shutdown` traces `label: shutdown send`, and `close`
 * traces `label: closed`, once, when it is called. Reading, writing or shutting down after
 * `close` rejects with `IoError` `Closed`.
 *
 * A scripted chunk longer than the reader's buffer is traced once and handed out over
 * several reads.
 * @example
 * ```ts
 * const flow = Mock.Flow.make("flow");
 * Mock.Flow.onRead(flow, [{ return: "Hi" }, { raise: new EndOfFile() }]);
 * await flow.readInto(new Uint8Array(10)); // 2, traces: flow: read "Hi"
 * ```
 */
export class MockFlow implements StreamSocket {
  /** The name the trace lines start with. */
  readonly label: string;
  readonly localAddr: StreamAddr;
  readonly peerAddr: StreamAddr;
  /** The scripts of this flow: `read` gives the data of each read, `copyBytes` the size of each written piece. */
  readonly handlers: {
    readonly read: Handler<string | Uint8Array>;
    readonly copyBytes: Handler<number>;
  };
  #state: "open" | "closed" = "open";
  #leftover: Uint8Array | undefined = undefined;
  #onClose: Array<() => void> = [];
  #idle: FnIdleWatch | null = null;
  #timedOut: IoError | null = null;
  /** Reads and writes so far (what an idle deadline watches). */
  #moved = 0;
  /** Bytes read (see `StreamSocket.bytesRead`). */
  bytesRead = 0;
  /** Bytes written (see `StreamSocket.bytesWritten`). */
  bytesWritten = 0;

  /** Whether its idle timeout closed it. */
  get idleTimedOut(): boolean {
    return this.#timedOut !== null;
  }

  constructor(label: string, opts: MockFlowOptions = {}) {
    if (typeof label !== "string") {
      throw new TypeError(`label must be a string, got ${typeof label}`);
    }
    this.label = label;
    const any = Sockaddr.tcp(Ipaddr.V4.any, 0);
    this.localAddr = opts.localAddr === undefined ? any : Sockaddr.stream(opts.localAddr);
    this.peerAddr = opts.peerAddr === undefined ? any : Sockaddr.stream(opts.peerAddr);
    this.handlers = {
      read: new Handler<string | Uint8Array>(`${label}: read`, { raise: new EndOfFile() }),
      copyBytes: new Handler<number>(`${label}: write`, { return: 4096 }),
    };
  }

  #check(op: string): void {
    this.#moved++;
    if (this.#timedOut !== null) throw this.#timedOut;
    if (this.#state === "closed") {
      throw new IoError({ kind: "Closed" }, [`${op} ${this.label}`]);
    }
  }

  /**
   * Reads the next scripted chunk (or what is left of the last one) into `buf`.
   * @throws EndOfFile when the script says so (the default); what the script raises;
   *   IoError `Closed` after `close`; Error if the script returns no data.
   */
  async readInto(buf: Uint8Array, opts?: BlockingOptions): Promise<number> {
    checkReadBuffer(buf);
    this.#check("reading from");
    let data = this.#leftover;
    this.#leftover = undefined;
    if (data === undefined) {
      data = toBytes(await this.handlers.read.run(opts));
      if (data.length === 0) {
        throw new Error(
          `${this.label}: the read script returned no data (a read gets at least one byte; ` +
            "script { raise: new EndOfFile() } to end the flow)",
        );
      }
      traceData(this.label, "read", data);
    }
    const n = Math.min(buf.length, data.length);
    buf.set(data.subarray(0, n));
    if (n < data.length) this.#leftover = data.subarray(n);
    this.bytesRead += n;
    return n;
  }

  async #size(opts: BlockingOptions | undefined): Promise<number> {
    const size = await this.handlers.copyBytes.run(opts);
    if (!Number.isInteger(size) || size <= 0) {
      throw new RangeError(`${this.label}: copy size must be an integer > 0, got ${String(size)}`);
    }
    return size;
  }

  /**
   * Traces the data, in pieces of at most the scripted copy size (a piece made of several
   * buffers is shown as a list, as Eio shows a vectored write).
   * @throws IoError `Closed` after `close`.
   */
  async write(bufs: readonly Uint8Array[], opts?: BlockingOptions): Promise<void> {
    checkWriteBuffers(bufs);
    this.#check("writing to");
    let rest = bufs.filter((b) => b.length > 0);
    while (rest.length > 0) {
      const size = await this.#size(opts);
      this.#check("writing to");
      const piece = takeBytes(rest, size);
      traceData(this.label, "wrote", piece.length === 1 ? (piece[0] as Uint8Array) : piece);
      const n = piece.reduce((n, b) => n + b.length, 0);
      this.bytesWritten += n;
      rest = dropBytes(rest, n);
    }
  }

  /**
   * Reads `src` to its end in pieces of the scripted copy size, tracing each piece as
   * written (Eio's mock copy).
   */
  async copyFrom(src: Source, opts?: BlockingOptions): Promise<void> {
    this.#check("writing to");
    for (;;) {
      const buf = new Uint8Array(await this.#size(opts));
      let n: number;
      try {
        n = await src.readInto(buf, opts);
      } catch (e) {
        if (e instanceof EndOfFile) return;
        throw e;
      }
      this.#check("writing to");
      this.bytesWritten += n;
      traceData(this.label, "wrote", buf.subarray(0, n));
    }
  }

  /**
   * Traces `label: shutdown CMD`.
   * @throws TypeError for a bad command; IoError `Closed` after `close`.
   */
  async shutdown(cmd: ShutdownCommand): Promise<void> {
    checkShutdownCommand(cmd);
    this.#check("shutting down");
    trace(`${this.label}: shutdown ${cmd}`);
  }

  /** Does nothing (a mock has no Nagle algorithm). */
  setNoDelay(_enabled: boolean): void {}

  /**
   * Closes the flow (tracing `label: idle timeout`) once no read or write has been made for
   * `ms` of the env's clock; later operations reject with `IoError` `Timeout` `idle`. A
   * scripted action in progress is not interrupted.
   * @throws TypeError/RangeError for a bad `ms`.
   */
  setIdleTimeout(ms: number | null): void {
    if (ms !== null) checkTimeout("ms", ms);
    this.#idle?.cancel();
    this.#idle =
      ms === null || this.#state === "closed"
        ? null
        : new FnIdleWatch(
            ms,
            () => this.#moved,
            (err) => {
              trace(`${this.label}: idle timeout`);
              this.#timedOut = err;
              publishIdleTimeout(this, ms);
              void this.close();
            },
          );
  }

  /**
   * Closes the flow, tracing `label: closed` at the call (the first time only).
   */
  close(): Promise<void> {
    if (this.#state === "closed") return Promise.resolve();
    this.#state = "closed";
    this.#idle?.cancel();
    this.#idle = null;
    this.#leftover = undefined;
    const hooks = this.#onClose;
    this.#onClose = [];
    for (const h of hooks) h();
    trace(`${this.label}: closed`);
    return Promise.resolve();
  }

  /** Closes the flow when `sw` finishes (unless closed before). */
  attachToSwitch(sw: Switch): void {
    if (this.#state === "closed") return;
    const hook = sw.onRelease(() => this.close());
    this.#onClose.push(() => hook.remove());
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  /** `MockFlow(label)`. */
  toString(): string {
    return `MockFlow(${this.label})`;
  }
}

/** Attaches `r` to `sw`, closing it when the switch finishes (mock resources remove the hook when closed early). */
export function attach(r: { close(): Promise<void> }, sw: Switch): void {
  const withHook = r as { attachToSwitch?: (sw: Switch) => void };
  if (typeof withHook.attachToSwitch === "function") withHook.attachToSwitch(sw);
  else sw.onRelease(() => r.close());
}

/** Mock flows. */
export const Flow = {
  /**
   * A new mock flow named `label` (the start of its trace lines). Reading it gives end-of-file
   * until scripted with {@link Flow.onRead}.
   * @throws TypeError if `label` is not a string or an address is bad.
   * @example
   * ```ts
   * const flow = Mock.Flow.make("flow");
   * await flow.write([new TextEncoder().encode("a\nb")]);
   * // flow: wrote "a\n"
   * //             "b"
   * ```
   */
  make(label: string, opts?: MockFlowOptions): MockFlow {
    return new MockFlow(label, opts);
  },

  /**
   * Scripts the reads of `flow`: each read performs the next action, which gives the data
   * (a string is sent as UTF-8) or raises (`{ raise: new EndOfFile() }`); when the actions
   * are used up, reads perform `opts.default` or give end-of-file.
   * @example
   * ```ts
   * Mock.Flow.onRead(flow, [{ return: "Hi" }, { raise: new EndOfFile() }]);
   * ```
   */
  onRead(
    flow: MockFlow,
    actions: readonly Action<string | Uint8Array>[],
    opts?: ScriptOptions<string | Uint8Array>,
  ): void {
    flow.handlers.read.seq(actions, opts);
  },

  /**
   * Scripts the size of the pieces `write` and `copyFrom` trace (4096 bytes by default).
   * @example
   * ```ts
   * Mock.Flow.onCopyBytes(flow, [], { default: { return: 2 } }); // "abc" is traced as "ab", "c"
   * ```
   */
  onCopyBytes(
    flow: MockFlow,
    actions: readonly Action<number>[],
    opts?: ScriptOptions<number>,
  ): void {
    flow.handlers.copyBytes.seq(actions, opts);
  },

  pair,
};

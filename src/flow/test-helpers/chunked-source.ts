/**
 * Scripted flows for the flow tests (as Eio's `mock_flow` in tests/buf_reader.md and
 * `Eio_mock.Flow`): a source that delivers given chunks and traces each read, and a sink that
 * records each write and can take it in scripted steps. Not part of the build.
 * @module
 */
import { type BlockingOptions, EndOfFile, Fiber, suspend } from "../../core/index.ts";
import type { Sink, Source } from "../types.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder();

function bytesOf(c: string | Uint8Array): Uint8Array {
  return typeof c === "string" ? encoder.encode(c) : c;
}

/** Options of {@link ChunkedSource}. */
export interface ChunkedSourceOptions {
  /** Also offer `readChunk` (default false: `readInto` only, as Eio's mock flow). */
  readonly readChunk?: boolean;
  /** When the script is used up: report end-of-file (default), or wait for `push`/`end`. */
  readonly whenEmpty?: "eof" | "block";
  /** The name in trace lines (default `mock_flow`). */
  readonly label?: string;
  /** Where trace lines go (default: a new array), to share it with a {@link MockSink}. */
  readonly trace?: string[];
}

/**
 * A source that delivers `chunks` in order, each read giving at most one chunk (or the part of
 * it that fits), and records a trace line per read, as Eio's `mock_flow`:
 * `mock_flow returning 4 bytes`, `mock_flow returning Eof`.
 */
export class ChunkedSource implements Source {
  /** The trace lines so far. */
  readonly trace: string[];
  /** The number of reads that returned data. */
  reads = 0;
  readonly #chunks: Uint8Array[];
  readonly #label: string;
  #ended: boolean;
  #waiters: (() => void)[] = [];
  readChunk?: (opts?: BlockingOptions) => Promise<Uint8Array>;

  constructor(chunks: Iterable<string | Uint8Array> = [], opts?: ChunkedSourceOptions) {
    this.#chunks = [...chunks].map(bytesOf).filter((c) => c.length > 0);
    this.#label = opts?.label ?? "mock_flow";
    this.trace = opts?.trace ?? [];
    this.#ended = (opts?.whenEmpty ?? "eof") === "eof";
    if (opts?.readChunk === true) {
      this.readChunk = (o) => this.#read(Number.POSITIVE_INFINITY, o);
    }
  }

  /** Adds chunks to the script (waking a blocked read). */
  push(...chunks: (string | Uint8Array)[]): void {
    for (const c of chunks) {
      const b = bytesOf(c);
      if (b.length > 0) this.#chunks.push(b);
    }
    this.#wakeAll();
  }

  /** Ends the script: once it is used up, reads report end-of-file. */
  end(): void {
    this.#ended = true;
    this.#wakeAll();
  }

  /** Clears the trace and returns what it held. */
  takeTrace(): string[] {
    return this.trace.splice(0);
  }

  #wakeAll(): void {
    for (const w of this.#waiters.splice(0)) w();
  }

  async #read(max: number, opts?: BlockingOptions): Promise<Uint8Array> {
    while (this.#chunks.length === 0) {
      if (this.#ended) {
        this.trace.push(`${this.#label} returning Eof`);
        throw new EndOfFile();
      }
      await suspend<void>((resolve) => {
        this.#waiters.push(resolve);
        return () => {
          const i = this.#waiters.indexOf(resolve);
          if (i >= 0) this.#waiters.splice(i, 1);
        };
      }, opts?.signal);
    }
    const head = this.#chunks[0] as Uint8Array;
    const n = Math.min(max, head.length);
    if (n === head.length) this.#chunks.shift();
    else this.#chunks[0] = head.subarray(n);
    this.reads++;
    this.trace.push(`${this.#label} returning ${n} bytes`);
    return head.subarray(0, n);
  }

  async readInto(buf: Uint8Array, opts?: BlockingOptions): Promise<number> {
    if (buf.length === 0) throw new RangeError("buf must not be empty");
    const part = await this.#read(buf.length, opts);
    buf.set(part);
    return part.length;
  }
}

/** What a {@link MockSink} does for one step of a write. */
export type SinkAction =
  /** Take up to `n` bytes now. */
  | { readonly return: number }
  /** Yield to other fibers, then take up to `n` bytes. */
  | { readonly yieldThen: number }
  /** Wait for the promise, then take up to that many bytes. */
  | { readonly await: Promise<number> }
  /** Fail the write with `err`. */
  | { readonly raise: unknown }
  /** Wait until the writing fiber is cancelled. */
  | { readonly awaitCancel: true };

/** Formats buffers as Eio's mock flow traces them: `"abc"` or `["ab"; "c"]`. */
export function showBufs(bufs: readonly Uint8Array[]): string {
  const strs = bufs.map((b) => JSON.stringify(decoder.decode(b)));
  return strs.length === 1 ? (strs[0] as string) : `[${strs.join("; ")}]`;
}

/**
 * A sink that records each write as `label: wrote "..."` (or `["a"; "b"]` for several buffers)
 * in `trace`, and whose writes follow a script: each step takes some bytes
 * (Eio's `on_copy_bytes`); with the script used up, a step takes everything left.
 */
export class MockSink implements Sink {
  /** The trace lines (shared with the test's own lines when given). */
  readonly trace: string[];
  /** Everything written, in order. */
  readonly data: Uint8Array[] = [];
  /** The number of `write` calls. */
  calls = 0;
  readonly #label: string;
  readonly #script: SinkAction[] = [];

  constructor(label = "flow", trace: string[] = []) {
    this.#label = label;
    this.trace = trace;
  }

  /** Adds steps to the script. */
  script(...actions: SinkAction[]): this {
    this.#script.push(...actions);
    return this;
  }

  /** Everything written, as a string. */
  text(): string {
    return this.data.map((b) => decoder.decode(b)).join("");
  }

  async write(bufs: readonly Uint8Array[], opts?: BlockingOptions): Promise<void> {
    this.calls++;
    let rest = bufs.filter((b) => b.length > 0);
    while (rest.length > 0) {
      const total = rest.reduce((n, b) => n + b.length, 0);
      let n = total;
      const action = this.#script.shift();
      if (action !== undefined) {
        if ("return" in action) n = action.return;
        else if ("yieldThen" in action) {
          await Fiber.yield();
          n = action.yieldThen;
        } else if ("await" in action) {
          n = await action.await;
        } else if ("raise" in action) throw action.raise;
        else await suspend<never>(() => undefined, opts?.signal);
      }
      n = Math.min(n, total);
      const taken: Uint8Array[] = [];
      let left = n;
      while (left > 0) {
        const b = rest[0] as Uint8Array;
        if (b.length <= left) {
          taken.push(b);
          rest.shift();
          left -= b.length;
        } else {
          taken.push(b.subarray(0, left));
          rest[0] = b.subarray(left);
          left = 0;
        }
      }
      rest = [...rest];
      for (const b of taken) this.data.push(new Uint8Array(b));
      this.trace.push(`${this.#label}: wrote ${showBufs(taken)}`);
    }
  }
}

/**
 * `Tcp.Reader` (Async's `Reader`): Async's names and behaviour — lines, characters, delimited
 * tokens, everything to the end, `null` at end of file — as a thin face over the flow layer's
 * `BufReader`: one buffer, one UTF-8 decoder, one bound (`maxLine`).
 * @module
 */
import { Buffer } from "node:buffer";
import { checkCount, show } from "../core/checks.ts";
import { BufferLimitExceeded, EndOfFile, IoError } from "../core/index.ts";
import { BufReader } from "../flow/buf-read/index.ts";
import { decodeUtf8 } from "../flow/bytes.ts";
import type { Source } from "../flow/types.ts";
import { ReaderBusy } from "./errors.ts";

/** The default first size of a reader's buffer: 4 KiB (it grows up to `maxLine`). */
export const DEFAULT_READER_BUFFER_SIZE = 4096;

/** The default bound of a reader (`readerMaxLine`): 1 MiB. */
export const DEFAULT_READER_MAX_LINE = 1024 * 1024;

/** The default bound of {@link Reader.contents}: 16 MiB. */
export const DEFAULT_CONTENTS_MAX_SIZE = 16 * 1024 * 1024;

/** Options of `new Reader(src, opts)`. */
export interface ReaderOptions {
  /**
   * The first size of the reader's buffer in bytes (default 4 KiB; it grows as needed up to
   * `maxLine`). It is allocated at the first read that needs it, and only for what cannot be
   * read in the source's own chunks (a socket hands its chunks over: an idle connection holds
   * no buffer).
   */
  readonly bufferSize?: number | undefined;
  /**
   * The longest line (or `readUntil` token) the reader buffers, delimiter included: past it
   * `readLine()`, `lines()` and `readUntil()` reject with `BufferLimitExceeded`. Default 1 MiB.
   */
  readonly maxLine?: number | undefined;
  /**
   * What `close()` closes. Default: the source's own `close()`, if it has one. A Tcp
   * connection's reader and writer share one close (closing either closes the socket).
   */
  readonly close?: (() => Promise<void>) | undefined;
}

/** Options of {@link Reader.readUntil}. */
export interface ReadUntilOptions {
  /** Include the delimiter in the result. Default `false`. */
  readonly keepDelim?: boolean | undefined;
}

/** Options of {@link Reader.contents}. */
export interface ContentsOptions {
  /** The most bytes to collect: past it, `contents()` rejects with `BufferLimitExceeded`. Default 16 MiB. */
  readonly maxSize?: number | undefined;
}

/** Finds a delimiter in `buf[from, to)`: its index, or -1. */
type Find = (buf: Uint8Array, from: number, to: number) => number;

function bufferOf(b: Uint8Array): Buffer {
  return Buffer.isBuffer(b) ? b : Buffer.from(b.buffer, b.byteOffset, b.byteLength);
}

function checkSize(name: string, n: unknown, dflt: number): number {
  return n === undefined ? dflt : checkCount(name, n);
}

/**
 * A buffered reader over a byte {@link Source} (Async's `Reader.t`): `readLine()`,
 * `readChar()`, `read(buf)`, `readUntil(delim)`, `contents()`, `lines()`. Text is UTF-8 (an
 * invalid sequence reads as one U+FFFD, as `TextDecoder` does). Every read returns `null` at
 * end of file (a peer that resets the connection is an end of file too, as in Async).
 *
 * It is a `BufReader` underneath, with `maxLine` as its bound: a peer cannot make it buffer
 * more (a longer line rejects with `BufferLimitExceeded`).
 *
 * One read at a time: starting a read while another has not finished throws {@link ReaderBusy}
 * (the bytes would otherwise go to either at random). A cancelled read loses nothing: the bytes
 * it had gathered are read again by the next read (except `contents()`'s).
 * @example
 * ```ts
 * await Tcp.withConnection(where, async ({ reader, writer }) => {
 *   writer.write("GET\n");
 *   for await (const line of reader.lines()) traceln(line);
 * });
 * ```
 */
export class Reader implements AsyncDisposable {
  readonly #br: BufReader;
  readonly #closeTarget: (() => Promise<void>) | undefined;
  #closed = false;
  #busy = false;
  #closing: Promise<void> | null = null;

  /**
   * Makes a reader of `src`.
   * @throws TypeError if `src` is not a Source; RangeError if `bufferSize` or `maxLine` is not
   *   an integer >= 1.
   */
  constructor(src: Source, opts: ReaderOptions = {}) {
    if (typeof src?.readInto !== "function") {
      throw new TypeError(`src must be a Source (with readInto), got ${show(src)}`);
    }
    const size = checkSize("bufferSize", opts.bufferSize, DEFAULT_READER_BUFFER_SIZE);
    const maxLine = checkSize("maxLine", opts.maxLine, DEFAULT_READER_MAX_LINE);
    this.#br = new BufReader(src, {
      maxSize: maxLine,
      initialSize: Math.min(size, maxLine),
      resetIsEndOfFile: true,
    });
    const close =
      opts.close ??
      (typeof (src as { close?: unknown }).close === "function"
        ? () => (src as unknown as { close(): Promise<void> }).close()
        : undefined);
    this.#closeTarget = close;
  }

  /** Whether `close()` has been called. */
  get isClosed(): boolean {
    return this.#closed;
  }

  /** How many bytes the reader holds, read from the source and not yet returned. */
  get bytesAvailable(): number {
    return this.#br.buffered;
  }

  /** The longest line the reader buffers (`maxLine`). */
  get maxLine(): number {
    return this.#br.maxSize;
  }

  /** Why `op` cannot start now, or undefined if it can. */
  #refuse(op: string): Error | undefined {
    if (this.#closed) {
      return new IoError({ kind: "Closed", cause: `Reader.${op}: the reader is closed` });
    }
    return this.#busy ? new ReaderBusy(op) : undefined;
  }

  /** Runs a read that may wait, marking the reader busy; end of file gives `null`. */
  async #slow<T>(fn: (br: BufReader) => Promise<T>): Promise<T | null> {
    this.#busy = true;
    try {
      return await fn(this.#br);
    } catch (e) {
      if (e instanceof EndOfFile) return null;
      throw e;
    } finally {
      this.#busy = false;
    }
  }

  /**
   * Reads up to the next newline and returns the line without it (a `\r\n` ending is removed
   * whole). At end of file, returns the last line if it has no newline, then `null`.
   * @throws BufferLimitExceeded if no newline comes within `maxLine` bytes; ReaderBusy if
   *   another read is running; IoError (`Closed` after `close()`, or failures of the source);
   *   Cancelled (the bytes gathered so far stay in the reader).
   * @example
   * ```ts
   * let line: string | null;
   * while ((line = await reader.readLine()) !== null) traceln(line);
   * ```
   */
  readLine(): Promise<string | null> {
    const no = this.#refuse("readLine");
    if (no !== undefined) return Promise.reject(no);
    // A line already buffered costs one resolved promise, not an async frame
    const line = this.#br.bufferedLine();
    if (line !== null) return Promise.resolve(line);
    this.#busy = true;
    return this.#br.line().then(this.#readDone, this.#readFailed);
  }

  /**
   * Reads one character (a whole UTF-8 sequence; an invalid or cut sequence reads as one
   * U+FFFD), or `null` at end of file.
   * @throws as {@link readLine}.
   * @example
   * ```ts
   * const c = await reader.readChar(); // "é"
   * ```
   */
  readChar(): Promise<string | null> {
    const no = this.#refuse("readChar");
    if (no !== undefined) return Promise.reject(no);
    return this.#slow((br) => br.anyChar());
  }

  /**
   * Reads at most `buf.length` bytes into `buf` and returns how many (at least 1), or `null`
   * at end of file. Returns what the reader holds first, reading from the source only when it
   * holds nothing.
   * @throws TypeError if `buf` is not a Uint8Array; as {@link readLine}.
   * @example
   * ```ts
   * const buf = new Uint8Array(4096);
   * const n = await reader.read(buf); // null at end of file
   * ```
   */
  read(buf: Uint8Array): Promise<number | null> {
    if (!(buf instanceof Uint8Array)) {
      return Promise.reject(new TypeError(`buf must be a Uint8Array, got ${show(buf)}`));
    }
    const no = this.#refuse("read");
    if (no !== undefined) return Promise.reject(no);
    if (buf.length === 0) return Promise.resolve(0);
    if (this.#br.buffered > 0) return this.#br.readInto(buf);
    this.#busy = true;
    return this.#br.readInto(buf).then(this.#readDone, this.#readFailed);
  }

  // Bound once per reader: a read that waits costs one reaction, not an async frame
  readonly #readDone = <T>(v: T): T => {
    this.#busy = false;
    return v;
  };

  readonly #readFailed = (e: unknown): null => {
    this.#busy = false;
    if (e instanceof EndOfFile) return null;
    throw e;
  };

  /**
   * Returns the next chunk of bytes the reader holds or reads, which the caller then owns, or
   * `null` at end of file (Async's `read_one_chunk_at_a_time`). From a socket, the chunks are
   * the socket's own: no copy.
   * @throws as {@link readLine}.
   * @example
   * ```ts
   * for (let c = await reader.readChunk(); c !== null; c = await reader.readChunk()) {
   *   writer.schedule(c); // echo, without copying
   * }
   * ```
   */
  readChunk(): Promise<Uint8Array | null> {
    const no = this.#refuse("readChunk");
    if (no !== undefined) return Promise.reject(no);
    if (this.#br.buffered > 0) return this.#br.readChunk();
    this.#busy = true;
    return this.#br.readChunk().then(this.#readDone, this.#readFailed);
  }

  /**
   * Reads up to the next `delim` and returns the text before it (with it, if `keepDelim`). A
   * string `delim` is one character; a function is asked about each byte. At end of file,
   * returns the text read so far (without a delimiter) if any, then `null`.
   * @throws TypeError if `delim` is neither a one-character string nor a function;
   *   BufferLimitExceeded if no delimiter comes within `maxLine` bytes; as {@link readLine}.
   * @example
   * ```ts
   * const word = await reader.readUntil(" "); // "hello" from "hello world"
   * const field = await reader.readUntil((b) => b === 0x2c || b === 0x3b, { keepDelim: true });
   * ```
   */
  readUntil(
    delim: string | ((byte: number) => boolean),
    opts: ReadUntilOptions = {},
  ): Promise<string | null> {
    let find: Find;
    let len = 1;
    if (typeof delim === "function") {
      find = (buf, from, to) => {
        for (let i = from; i < to; i++) if (delim(buf[i] as number)) return i;
        return -1;
      };
    } else if (typeof delim === "string" && [...delim].length === 1) {
      const bytes = Buffer.from(delim, "utf8");
      len = bytes.length;
      find = (buf, from, to) => {
        const i = bufferOf(buf).indexOf(len === 1 ? (bytes[0] as number) : bytes, from);
        return i >= 0 && i + len <= to ? i : -1;
      };
    } else {
      return Promise.reject(
        new TypeError(
          `delim must be a one-character string or a function of a byte, got ${show(delim)}`,
        ),
      );
    }
    const no = this.#refuse("readUntil");
    if (no !== undefined) return Promise.reject(no);
    const keep = opts.keepDelim === true;
    return this.#slow((br) => until(br, find, len, keep));
  }

  /**
   * Reads everything up to end of file and returns it as text (`""` if there is nothing).
   * @throws BufferLimitExceeded past `maxSize` bytes (default 16 MiB); RangeError for a bad
   *   `maxSize`; as {@link readLine} (a cancelled `contents()` drops what it had read).
   * @example
   * ```ts
   * const body = await reader.contents({ maxSize: 1 << 20 });
   * ```
   */
  contents(opts: ContentsOptions = {}): Promise<string> {
    let max: number;
    try {
      max = checkSize("maxSize", opts?.maxSize, DEFAULT_CONTENTS_MAX_SIZE);
    } catch (e) {
      return Promise.reject(e);
    }
    const no = this.#refuse("contents");
    if (no !== undefined) return Promise.reject(no);
    return this.#slow(async (br) => {
      const parts: Buffer[] = [];
      let total = 0;
      for (;;) {
        let c: Uint8Array;
        try {
          c = await br.readChunk();
        } catch (e) {
          if (e instanceof EndOfFile) return Buffer.concat(parts, total).toString("utf8");
          throw e;
        }
        total += c.length;
        if (total > max) throw new BufferLimitExceeded(`Reader.contents: more than ${max} bytes`);
        parts.push(bufferOf(c));
      }
    }) as Promise<string>;
  }

  /**
   * The remaining lines (as {@link readLine} reads them), as an async iterable. Stopping the
   * loop early leaves the rest in the reader. Lines already buffered cost no async frame.
   * @throws as {@link readLine}.
   * @example
   * ```ts
   * for await (const line of reader.lines()) traceln("got %s", line);
   * ```
   */
  lines(): AsyncIterableIterator<string> {
    const done: IteratorResult<string, undefined> = { done: true, value: undefined };
    const next = (): Promise<IteratorResult<string, undefined>> =>
      this.readLine().then((value) => (value === null ? done : { done: false, value }));
    return {
      next: () => {
        const no = this.#refuse("readLine");
        if (no !== undefined) return Promise.reject(no);
        const value = this.#br.bufferedLine();
        if (value !== null) return Promise.resolve({ done: false, value });
        return next();
      },
      [Symbol.asyncIterator]() {
        return this;
      },
    };
  }

  /**
   * Closes the reader and what it reads from (for a Tcp connection: the socket, which also
   * closes its writer). A read in progress fails. A second call returns the first call's
   * promise.
   * @example
   * ```ts
   * await writer.close(); // first: it flushes
   * await reader.close();
   * ```
   */
  close(): Promise<void> {
    if (this.#closing !== null) return this.#closing;
    this.#closed = true;
    const target = this.#closeTarget;
    this.#closing = target === undefined ? Promise.resolve() : target();
    return this.#closing;
  }

  /** Same as {@link close}. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}

/**
 * Reads up to the first delimiter `find` finds (`len` bytes long) and returns the text before
 * it (with it, if `keep`), consuming the delimiter; at end of file, the rest if any.
 * @throws EndOfFile if nothing is left; BufferLimitExceeded past the reader's bound.
 */
async function until(br: BufReader, find: Find, len: number, keep: boolean): Promise<string> {
  let scanned = 0;
  for (;;) {
    const view = br.peek();
    const i = find(view, Math.max(0, scanned - len + 1), view.length);
    if (i >= 0) {
      const s = decodeUtf8(view, 0, keep ? i + len : i);
      br.consume(i + len);
      return s;
    }
    scanned = view.length;
    try {
      await br.ensure(scanned + 1);
    } catch (e) {
      if (!(e instanceof EndOfFile) || br.buffered === 0) throw e;
      const rest = br.peek();
      const s = decodeUtf8(rest, 0, rest.length);
      br.consume(rest.length);
      return s;
    }
  }
}

/**
 * `Tcp.Reader` (Async's `Reader`): buffered, text-friendly reading from a byte source — lines,
 * characters, delimited tokens, everything to the end.
 * @module
 */
import { Buffer } from "node:buffer";
import { describe } from "../core/_checks.ts";
import { EndOfFile, IoError, isIoError } from "../core/index.ts";
import type { Source } from "../flow/types.ts";
import { ReaderBusy } from "./errors.ts";

/** The default size of a reader's buffer: 128 KiB. */
export const DEFAULT_READER_BUFFER_SIZE = 128 * 1024;

const EMPTY = Buffer.alloc(0);
const NL = 0x0a;
const CR = 0x0d;

/** Options of `new Reader(src, opts)`. */
export interface ReaderOptions {
  /**
   * The size of the reader's buffer in bytes (default 128 KiB). It is allocated at the first
   * read that needs it, and only for a source that cannot hand over its own chunks (sockets
   * can: then no buffer is allocated at all).
   */
  readonly bufferSize?: number | undefined;
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

function toBuffer(b: Uint8Array): Buffer {
  return Buffer.isBuffer(b) ? b : Buffer.from(b.buffer, b.byteOffset, b.byteLength);
}

/** How many bytes the UTF-8 sequence starting with `b` has (1 for an invalid lead byte). */
function utf8Length(b: number): number {
  if (b < 0xc2) return 1;
  if (b < 0xe0) return 2;
  if (b < 0xf0) return 3;
  if (b < 0xf5) return 4;
  return 1;
}

/** Whether `b` is a valid second byte after lead byte `lead` (RFC 3629's table). */
function validSecond(lead: number, b: number): boolean {
  if (lead === 0xe0) return b >= 0xa0 && b <= 0xbf;
  if (lead === 0xed) return b >= 0x80 && b <= 0x9f;
  if (lead === 0xf0) return b >= 0x90 && b <= 0xbf;
  if (lead === 0xf4) return b >= 0x80 && b <= 0x8f;
  return b >= 0x80 && b <= 0xbf;
}

/**
 * Decodes the character at `data[pos]` (bytes up to `end` available): returns it and how many
 * bytes it used. An invalid or truncated sequence gives U+FFFD for its first byte only.
 */
function decodeOne(data: Buffer, pos: number, end: number): [string, number] {
  const lead = data[pos] as number;
  if (lead < 0x80) return [String.fromCharCode(lead), 1];
  const want = utf8Length(lead);
  if (want === 1 || end - pos < want) return ["\uFFFD", 1];
  if (!validSecond(lead, data[pos + 1] as number)) return ["\uFFFD", 1];
  for (let i = 2; i < want; i++) {
    const b = data[pos + i] as number;
    if (b < 0x80 || b > 0xbf) return ["\uFFFD", 1];
  }
  return [data.toString("utf8", pos, pos + want), want];
}

/**
 * A buffered reader over a byte {@link Source} (Async's `Reader.t`): `readLine()`,
 * `readChar()`, `read(buf)`, `readUntil(delim)`, `contents()`, `lines()`. Text is UTF-8.
 * Every read returns `null` at end of file (a peer that resets the connection is an end of
 * file too, as in Async).
 *
 * One read at a time: starting a read while another has not finished throws {@link ReaderBusy}
 * (the bytes would otherwise go to either at random). A cancelled read loses nothing: the bytes
 * it had gathered are read again by the next read.
 *
 * The buffer (`bufferSize`, 128 KiB by default) is allocated lazily, and not at all for a
 * source with `readChunk` (sockets): then the reader keeps the source's chunks, so an idle
 * connection costs no buffer.
 * @example
 * ```ts
 * await Tcp.withConnection(where, async ({ reader, writer }) => {
 *   writer.write("GET\n");
 *   for await (const line of reader.lines()) traceln(line);
 * });
 * ```
 */
export class Reader implements AsyncDisposable {
  readonly #src: Source;
  readonly #closeTarget: (() => Promise<void>) | undefined;
  readonly #bufferSize: number;
  #state: "open" | "closed" = "open";
  #busy = false;
  #eof = false;
  /** The bytes read and not yet consumed are `#data[#pos..#end]`. */
  #data: Buffer = EMPTY;
  #pos = 0;
  #end = 0;
  /** Whether `#data` is the reader's own buffer (reused by the next fill). */
  #dataIsOwn = false;
  #own: Buffer | null = null;
  #closing: Promise<void> | null = null;

  /**
   * Makes a reader of `src`.
   * @throws TypeError if `src` is not a Source; RangeError if `bufferSize` is not an integer >= 1.
   */
  constructor(src: Source, opts: ReaderOptions = {}) {
    if (typeof src?.readInto !== "function") {
      throw new TypeError(`src must be a Source (with readInto), got ${describe(src)}`);
    }
    const size = opts.bufferSize ?? DEFAULT_READER_BUFFER_SIZE;
    if (!Number.isInteger(size) || size < 1) {
      throw new RangeError(`bufferSize must be an integer >= 1, got ${String(size)}`);
    }
    this.#src = src;
    this.#bufferSize = size;
    const close =
      opts.close ??
      (typeof (src as { close?: unknown }).close === "function"
        ? () => (src as unknown as { close(): Promise<void> }).close()
        : undefined);
    this.#closeTarget = close;
  }

  /** Whether `close()` has been called. */
  get isClosed(): boolean {
    return this.#state === "closed";
  }

  /** How many bytes the reader holds, read from the source and not yet returned. */
  get bytesAvailable(): number {
    return this.#end - this.#pos;
  }

  #enter(op: string): void {
    if (this.#state !== "open") {
      throw new IoError({ kind: "Closed", cause: `Reader.${op}: the reader is closed` });
    }
    if (this.#busy) throw new ReaderBusy(op);
    this.#busy = true;
  }

  /**
   * Reads the next chunk from the source into `#data`. Returns false at end of file.
   * Only called when `#data` is consumed.
   */
  async #fill(): Promise<boolean> {
    if (this.#eof) return false;
    const src = this.#src;
    try {
      if (src.readChunk !== undefined) {
        const c = await src.readChunk();
        this.#data = toBuffer(c);
        this.#dataIsOwn = false;
        this.#end = c.length;
      } else {
        if (this.#own === null) this.#own = Buffer.allocUnsafe(this.#bufferSize);
        const n = await src.readInto(this.#own);
        this.#data = this.#own;
        this.#dataIsOwn = true;
        this.#end = n;
      }
      this.#pos = 0;
      return true;
    } catch (e) {
      if (e instanceof EndOfFile || isIoError(e, "ConnectionReset")) {
        this.#eof = true;
        return false;
      }
      throw e;
    }
  }

  /** The unconsumed bytes as a part that stays valid after the next fill. */
  #takeRest(): Buffer {
    const part = this.#data.subarray(this.#pos, this.#end);
    this.#pos = this.#end;
    return this.#dataIsOwn ? Buffer.from(part) : part;
  }

  /** Puts gathered bytes back in front (after a failed or cancelled read): nothing is lost. */
  #unread(parts: Buffer[]): void {
    if (parts.length === 0) return;
    const rest = this.#data.subarray(this.#pos, this.#end);
    const all = Buffer.concat(rest.length > 0 ? [...parts, rest] : parts);
    this.#data = all;
    this.#dataIsOwn = false;
    this.#pos = 0;
    this.#end = all.length;
  }

  /**
   * Reads up to the next newline and returns the line without it (a `\r\n` ending is removed
   * whole). At end of file, returns the last line if it has no newline, then `null`.
   * @throws ReaderBusy if another read is running; IoError (`Closed` after `close()`, or
   *   failures of the source); Cancelled (the bytes gathered so far stay in the reader).
   * @example
   * ```ts
   * let line: string | null;
   * while ((line = await reader.readLine()) !== null) traceln(line);
   * ```
   */
  async readLine(): Promise<string | null> {
    this.#enter("readLine");
    const parts: Buffer[] = [];
    try {
      for (;;) {
        if (this.#pos < this.#end) {
          const data = this.#data;
          const i = data.indexOf(NL, this.#pos);
          if (i >= 0 && i < this.#end) {
            const start = this.#pos;
            this.#pos = i + 1;
            if (parts.length === 0) {
              const stop = i > start && data[i - 1] === CR ? i - 1 : i;
              return data.toString("utf8", start, stop);
            }
            parts.push(data.subarray(start, i));
            const line = Buffer.concat(parts);
            const stop =
              line.length > 0 && line[line.length - 1] === CR ? line.length - 1 : line.length;
            return line.toString("utf8", 0, stop);
          }
          parts.push(this.#takeRest());
        }
        if (!(await this.#fill())) {
          if (parts.length === 0) return null;
          return Buffer.concat(parts).toString("utf8");
        }
      }
    } catch (e) {
      this.#unread(parts);
      throw e;
    } finally {
      this.#busy = false;
    }
  }

  /**
   * Reads one character (a whole UTF-8 sequence; an invalid byte reads as U+FFFD), or `null`
   * at end of file.
   * @throws as {@link readLine}.
   * @example
   * ```ts
   * const c = await reader.readChar(); // "é"
   * ```
   */
  async readChar(): Promise<string | null> {
    this.#enter("readChar");
    const parts: Buffer[] = [];
    try {
      if (this.#pos === this.#end && !(await this.#fill())) return null;
      const want = utf8Length(this.#data[this.#pos] as number);
      if (this.#end - this.#pos < want) {
        // The sequence straddles two chunks: gather it, then decode it in one piece
        let have = this.#end - this.#pos;
        parts.push(this.#takeRest());
        while (have < want && (await this.#fill())) {
          const n = Math.min(want - have, this.#end - this.#pos);
          const part = this.#data.subarray(this.#pos, this.#pos + n);
          parts.push(this.#dataIsOwn ? Buffer.from(part) : part);
          this.#pos += n;
          have += n;
        }
        this.#unread(parts);
        parts.length = 0;
      }
      const [ch, used] = decodeOne(this.#data, this.#pos, this.#end);
      this.#pos += used;
      return ch;
    } catch (e) {
      this.#unread(parts);
      throw e;
    } finally {
      this.#busy = false;
    }
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
  async read(buf: Uint8Array): Promise<number | null> {
    if (!(buf instanceof Uint8Array)) {
      throw new TypeError(`buf must be a Uint8Array, got ${describe(buf)}`);
    }
    this.#enter("read");
    try {
      if (buf.length === 0) return 0;
      if (this.#pos === this.#end) {
        const src = this.#src;
        if (src.readChunk === undefined && buf.length >= this.#bufferSize && !this.#eof) {
          // Large reads go straight into the caller's buffer
          try {
            return await src.readInto(buf);
          } catch (e) {
            if (e instanceof EndOfFile || isIoError(e, "ConnectionReset")) {
              this.#eof = true;
              return null;
            }
            throw e;
          }
        }
        if (!(await this.#fill())) return null;
      }
      const n = Math.min(buf.length, this.#end - this.#pos);
      buf.set(this.#data.subarray(this.#pos, this.#pos + n));
      this.#pos += n;
      return n;
    } finally {
      this.#busy = false;
    }
  }

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
    try {
      this.#enter("readChunk");
    } catch (e) {
      return Promise.reject(e);
    }
    if (this.#pos < this.#end) {
      this.#busy = false;
      return Promise.resolve(this.#takeRest());
    }
    const src = this.#src;
    if (this.#eof || src.readChunk === undefined) return this.#readChunkSlow();
    // The fast path of an echo: the source's own chunk, straight through
    return src.readChunk().then(this.#chunkRead, this.#chunkFailed);
  }

  readonly #chunkRead = (c: Uint8Array): Uint8Array => {
    this.#busy = false;
    return c;
  };

  readonly #chunkFailed = (e: unknown): null => {
    this.#busy = false;
    if (e instanceof EndOfFile || isIoError(e, "ConnectionReset")) {
      this.#eof = true;
      return null;
    }
    throw e;
  };

  async #readChunkSlow(): Promise<Uint8Array | null> {
    try {
      if (!(await this.#fill())) return null;
      return this.#takeRest();
    } finally {
      this.#busy = false;
    }
  }

  /**
   * Reads up to the next `delim` and returns the text before it (with it, if `keepDelim`). A
   * string `delim` is one character; a function is asked about each byte. At end of file,
   * returns the text read so far (without a delimiter) if any, then `null`.
   * @throws TypeError if `delim` is neither a one-character string nor a function; as
   *   {@link readLine}.
   * @example
   * ```ts
   * const word = await reader.readUntil(" "); // "hello" from "hello world"
   * const field = await reader.readUntil((b) => b === 0x2c || b === 0x3b, { keepDelim: true });
   * ```
   */
  async readUntil(
    delim: string | ((byte: number) => boolean),
    opts: ReadUntilOptions = {},
  ): Promise<string | null> {
    let match: ((data: Buffer, from: number, to: number) => number) | undefined;
    let delimLen = 1;
    if (typeof delim === "function") {
      match = (data, from, to) => {
        for (let i = from; i < to; i++) if (delim(data[i] as number)) return i;
        return -1;
      };
    } else if (typeof delim === "string" && [...delim].length === 1) {
      const bytes = Buffer.from(delim, "utf8");
      delimLen = bytes.length;
      if (delimLen === 1) {
        const b = bytes[0] as number;
        match = (data, from, to) => {
          const i = data.indexOf(b, from);
          return i >= 0 && i < to ? i : -1;
        };
      }
    } else {
      throw new TypeError(
        `delim must be a one-character string or a function of a byte, got ${describe(delim)}`,
      );
    }
    if (match === undefined) return this.#readUntilSequence(Buffer.from(delim as string), opts);
    const keep = opts.keepDelim === true;
    this.#enter("readUntil");
    const parts: Buffer[] = [];
    try {
      for (;;) {
        if (this.#pos < this.#end) {
          const i = match(this.#data, this.#pos, this.#end);
          if (i >= 0) {
            const start = this.#pos;
            this.#pos = i + delimLen;
            const stop = keep ? i + delimLen : i;
            if (parts.length === 0) return this.#data.toString("utf8", start, stop);
            parts.push(this.#data.subarray(start, stop));
            return Buffer.concat(parts).toString("utf8");
          }
          parts.push(this.#takeRest());
        }
        if (!(await this.#fill())) {
          return parts.length === 0 ? null : Buffer.concat(parts).toString("utf8");
        }
      }
    } catch (e) {
      this.#unread(parts);
      throw e;
    } finally {
      this.#busy = false;
    }
  }

  /** `readUntil` for a multi-byte (non-ASCII) delimiter, which may straddle two chunks. */
  async #readUntilSequence(delim: Buffer, opts: ReadUntilOptions): Promise<string | null> {
    this.#enter("readUntil");
    let acc: Buffer = EMPTY;
    try {
      for (;;) {
        if (this.#pos < this.#end) {
          const from = Math.max(0, acc.length - delim.length + 1);
          acc = acc.length === 0 ? this.#takeRest() : Buffer.concat([acc, this.#takeRest()]);
          const i = acc.indexOf(delim, from);
          if (i >= 0) {
            const stop = opts.keepDelim === true ? i + delim.length : i;
            const text = acc.toString("utf8", 0, stop);
            this.#unread([acc.subarray(i + delim.length)]);
            acc = EMPTY;
            return text;
          }
        }
        if (!(await this.#fill())) {
          const text = acc.length === 0 ? null : acc.toString("utf8");
          acc = EMPTY;
          return text;
        }
      }
    } catch (e) {
      this.#unread([acc]);
      throw e;
    } finally {
      this.#busy = false;
    }
  }

  /**
   * Reads everything up to end of file and returns it as text (`""` if there is nothing).
   * @throws as {@link readLine}.
   * @example
   * ```ts
   * const body = await reader.contents();
   * ```
   */
  async contents(): Promise<string> {
    this.#enter("contents");
    const parts: Buffer[] = [];
    try {
      for (;;) {
        if (this.#pos < this.#end) parts.push(this.#takeRest());
        if (!(await this.#fill())) return Buffer.concat(parts).toString("utf8");
      }
    } catch (e) {
      this.#unread(parts);
      throw e;
    } finally {
      this.#busy = false;
    }
  }

  /**
   * The remaining lines (as {@link readLine} reads them), as an async iterable. Stopping the
   * loop early leaves the rest in the reader.
   * @throws as {@link readLine}.
   * @example
   * ```ts
   * for await (const line of reader.lines()) traceln("got %s", line);
   * ```
   */
  async *lines(): AsyncGenerator<string, void, undefined> {
    for (;;) {
      const line = await this.readLine();
      if (line === null) return;
      yield line;
    }
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
    this.#state = "closed";
    this.#data = EMPTY;
    this.#pos = 0;
    this.#end = 0;
    this.#own = null;
    const target = this.#closeTarget;
    this.#closing = target === undefined ? Promise.resolve() : target();
    return this.#closing;
  }

  /** Same as {@link close}. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}

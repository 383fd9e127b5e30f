/**
 * RESP2, the Redis protocol: parsing requests out of a buffer and encoding replies. Pure code
 * (no I/O, nothing from weir), so the node:net peer in `bench/` runs the very same parser.
 *
 * A request is an array of bulk strings (`*2\r\n$3\r\nGET\r\n$1\r\nk\r\n`), which is what
 * redis-cli and redis-benchmark send, or an inline command (`PING\r\n`), which is what you type
 * into `nc`. Every size is checked against {@link Limits} before the bytes are waited for, so a
 * client cannot make the server buffer more than `maxRequest` bytes.
 * @module
 */

/** The bounds of a connection. */
export interface Limits {
  /** The longest bulk string (argument) accepted, in bytes. */
  readonly maxBulk: number;
  /** The most arguments in one request. */
  readonly maxArgs: number;
  /** The longest request (all its bytes), and so the reader's buffer size. */
  readonly maxRequest: number;
  /** The most requests answered from one read before the server waits for its replies to go out. */
  readonly maxPipeline: number;
}

/** The default bounds: 1 MiB arguments, 1024 arguments, 4 MiB requests, pipelines of 1024. */
export const DEFAULT_LIMITS: Limits = {
  maxBulk: 1 << 20,
  maxArgs: 1024,
  maxRequest: 4 << 20,
  maxPipeline: 1024,
};

/** A request that breaks the protocol or a limit: answered with `-ERR Protocol error: ...`. */
export class ProtocolError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ProtocolError";
  }
}

/**
 * One parsed request, reused from one request to the next: argument `i` is
 * `buf[starts[i], ends[i])`. Valid until the bytes are consumed from the reader.
 */
export class Request {
  buf: Buffer = Buffer.alloc(0);
  argc = 0;
  readonly starts: number[] = [];
  readonly ends: number[] = [];

  /** Argument `i` as a string (latin1: one character per byte, so keys stay binary-safe). */
  str(i: number): string {
    return this.buf.toString("latin1", this.starts[i] as number, this.ends[i] as number);
  }

  /** A copy of argument `i`'s bytes (for storing). */
  bytes(i: number): Buffer {
    return Buffer.copyBytesFrom(
      this.buf,
      this.starts[i] as number,
      (this.ends[i] as number) - (this.starts[i] as number),
    );
  }

  /** Argument `i` as an integer, or `undefined` if it is not one (as Redis reads numbers). */
  int(i: number): number | undefined {
    const s = this.str(i);
    if (!/^-?\d{1,16}$/.test(s)) return undefined;
    return Number(s);
  }
}

const CR = 13;
const CRLF = "\r\n";
const LF = 10;

/** Reads the decimal number at `buf[from, end)` that ends in CRLF; -1 if not complete yet. */
function readNumberLine(buf: Buffer, from: number, end: number, what: string): [number, number] {
  const lf = buf.indexOf(LF, from);
  if (lf === -1 || lf >= end) {
    if (end - from > 32) throw new ProtocolError(`invalid ${what} length`);
    return [-1, 0];
  }
  if (lf === from || buf[lf - 1] !== CR) throw new ProtocolError(`invalid ${what} length`);
  let n = 0;
  let i = from;
  const neg = buf[i] === 45; // "-"
  if (neg) i++;
  if (i === lf - 1 || lf - 1 - i > 15) throw new ProtocolError(`invalid ${what} length`);
  for (; i < lf - 1; i++) {
    const d = (buf[i] as number) - 48;
    if (d < 0 || d > 9) throw new ProtocolError(`invalid ${what} length`);
    n = n * 10 + d;
  }
  return [neg ? -n : n, lf + 1];
}

/**
 * Parses the request that starts at `buf[from]` (the bytes up to `end` are valid) into `req`:
 * the number of bytes it takes, or 0 if it is not complete yet.
 * @throws ProtocolError on malformed input or a request past `limits`.
 */
export function parseRequest(
  buf: Buffer,
  from: number,
  end: number,
  req: Request,
  limits: Limits,
): number {
  if (end === from) return 0;
  req.buf = buf;
  if (buf[from] !== 42) return parseInline(buf, from, end, req, limits); // "*"
  const [argc, afterCount] = readNumberLine(buf, from + 1, end, "multibulk");
  if (argc === -1 && afterCount === 0) return 0;
  if (argc > limits.maxArgs || argc < 0) throw new ProtocolError("invalid multibulk length");
  let at = afterCount;
  for (let i = 0; i < argc; i++) {
    if (at >= end) return 0;
    if (buf[at] !== 36) {
      // "$"
      throw new ProtocolError(`expected '$', got '${String.fromCharCode(buf[at] as number)}'`);
    }
    const [len, data] = readNumberLine(buf, at + 1, end, "bulk");
    if (len === -1 && data === 0) return 0;
    if (len < 0 || len > limits.maxBulk) throw new ProtocolError("invalid bulk length");
    if (data + len + 2 - from > limits.maxRequest) throw new ProtocolError("request too large");
    if (data + len + 2 > end) return 0;
    if (buf[data + len] !== CR || buf[data + len + 1] !== LF) {
      throw new ProtocolError("bulk string not followed by CRLF");
    }
    req.starts[i] = data;
    req.ends[i] = data + len;
    at = data + len + 2;
  }
  req.argc = argc;
  return at - from;
}

/** An inline command: words separated by spaces, ending in LF (or CRLF). */
function parseInline(buf: Buffer, from: number, end: number, req: Request, limits: Limits): number {
  const lf = buf.indexOf(LF, from);
  if (lf === -1 || lf >= end) {
    if (end - from > 64 * 1024) throw new ProtocolError("too big inline request");
    return 0;
  }
  const stop = lf > from && buf[lf - 1] === CR ? lf - 1 : lf;
  let argc = 0;
  let i = from;
  while (i < stop) {
    while (i < stop && buf[i] === 32) i++;
    if (i === stop) break;
    const start = i;
    while (i < stop && buf[i] !== 32) i++;
    if (argc === limits.maxArgs) throw new ProtocolError("invalid multibulk length");
    req.starts[argc] = start;
    req.ends[argc] = i;
    argc++;
  }
  req.argc = argc;
  return lf + 1 - from;
}

/** Where replies go: a weir `BufWriter` has these methods; the node:net peer has its own. */
export interface ReplySink {
  string(s: string): void;
  bytes(b: Uint8Array): void;
}

/** Encodes replies onto a {@link ReplySink}. */
export const Reply = {
  /** `+OK`-style status. */
  simple(out: ReplySink, s: string): void {
    out.string(`+${s}\r\n`);
  },
  /** `-ERR ...` error. */
  error(out: ReplySink, s: string): void {
    out.string(`-${s}\r\n`);
  },
  /** `:n` integer. */
  int(out: ReplySink, n: number): void {
    out.string(`:${n}\r\n`);
  },
  /** A bulk string of bytes. */
  bulk(out: ReplySink, b: Uint8Array): void {
    out.string(`$${b.length}\r\n`);
    out.bytes(b);
    out.string(CRLF);
  },
  /** A bulk string of latin1 text (one byte per character). */
  bulkText(out: ReplySink, s: string): void {
    if (isAscii(s)) out.string(`$${s.length}\r\n${s}\r\n`);
    else Reply.bulk(out, Buffer.from(s, "latin1"));
  },
  /** The null bulk string (a missing key). */
  nil(out: ReplySink): void {
    out.string("$-1\r\n");
  },
  /** The header of an array of `n` items, which follow. */
  array(out: ReplySink, n: number): void {
    out.string(`*${n}\r\n`);
  },
};

function isAscii(s: string): boolean {
  for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) > 127) return false;
  return true;
}

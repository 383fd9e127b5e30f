/**
 * Reading an HTTP/1.1 request head (RFC 9112: request line, header fields) from a `BufRead`,
 * with every size bounded. A request that breaks the rules rejects with an {@link HttpError}
 * carrying the status to answer before closing the connection.
 * @module
 */
import { BufferLimitExceeded, type BufReader } from "weir";

/** The bounds of a request. */
export interface HttpLimits {
  /** The longest request line (bytes): 414 past it. */
  readonly maxRequestLine: number;
  /** The most bytes of header fields: 431 past it. */
  readonly maxHeaderBytes: number;
  /** The most header fields: 431 past it. */
  readonly maxHeaders: number;
  /** The largest body (bytes, Content-Length or chunked): 413 past it. */
  readonly maxBody: number;
}

/** The defaults: 8 KiB request line, 16 KiB and 100 header fields, 1 MiB bodies. */
export const DEFAULT_HTTP_LIMITS: HttpLimits = {
  maxRequestLine: 8 * 1024,
  maxHeaderBytes: 16 * 1024,
  maxHeaders: 100,
  maxBody: 1 << 20,
};

/** A request the server refuses: answered with `status` and `Connection: close`. */
export class HttpError extends Error {
  readonly status: number;
  constructor(status: number, message: string) {
    super(message);
    this.name = "HttpError";
    this.status = status;
  }
}

/** A parsed request head. */
export interface Head {
  readonly method: string;
  readonly target: string;
  /** 0 for HTTP/1.0, 1 for HTTP/1.1. */
  readonly minor: number;
  /** Header fields, names in lower case; repeated fields are joined with ", " (RFC 9110 5.3). */
  readonly headers: Map<string, string>;
  /** Whether the connection stays open after the response (the version and `Connection`). */
  readonly keepAlive: boolean;
  /** The body: none, a length, or chunked. */
  readonly body:
    | { readonly kind: "none" }
    | { readonly kind: "length"; readonly length: number }
    | { readonly kind: "chunked" };
  /** Whether the client waits for `100 Continue` before sending its body. */
  readonly expectContinue: boolean;
}

// RFC 9110 5.6.2: a token is visible ASCII except delimiters.
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
const REQUEST_LINE = /^([!#$%&'*+\-.^_`|~0-9A-Za-z]+) (\S+) HTTP\/1\.([01])$/;
/** Field values have no control characters but tab (no CR, LF or NUL: RFC 9110 5.5). */
function validValue(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if ((c < 32 && c !== 9) || c === 127) return false;
  }
  return true;
}

/**
 * Reads one request head. The reader's `maxSize` must be at least the larger of the two line
 * limits plus 2 (see {@link readerSize}).
 * @throws HttpError 400 (malformed), 414 (request line too long), 431 (header fields too large
 *   or too many), 501 (a transfer coding other than chunked), 505 (not HTTP/1.x).
 * @throws EndOfFile if the connection ends before the head is complete (or before it starts).
 */
export async function readHead(r: BufReader, limits: HttpLimits): Promise<Head> {
  let requestLine: string;
  const start = r.consumedBytes;
  try {
    // A line already in the buffer is taken without a promise (most heads arrive whole).
    requestLine = r.bufferedLine() ?? (await r.line());
    // RFC 9112 2.2: ignore at least one empty line before a request
    if (requestLine === "") requestLine = r.bufferedLine() ?? (await r.line());
  } catch (e) {
    if (e instanceof BufferLimitExceeded) throw new HttpError(414, "request line too long");
    throw e;
  }
  if (r.consumedBytes - start > limits.maxRequestLine + 4) {
    throw new HttpError(414, "request line too long");
  }
  const m = REQUEST_LINE.exec(requestLine);
  if (m === null) {
    if (/^\S+ \S+ HTTP\/\d/.test(requestLine))
      throw new HttpError(505, "HTTP version not supported");
    throw new HttpError(400, "malformed request line");
  }
  const headers = new Map<string, string>();
  const headStart = r.consumedBytes;
  for (let count = 0; ; count++) {
    let field: string;
    try {
      field = r.bufferedLine() ?? (await r.line());
    } catch (e) {
      if (e instanceof BufferLimitExceeded) throw new HttpError(431, "header fields too large");
      throw e;
    }
    if (r.consumedBytes - headStart > limits.maxHeaderBytes) {
      throw new HttpError(431, "header fields too large");
    }
    if (field === "") break;
    if (count === limits.maxHeaders) throw new HttpError(431, "too many header fields");
    const colon = field.indexOf(":");
    const name = colon > 0 ? field.slice(0, colon) : "";
    // RFC 9112 5.1: no whitespace between the name and the colon; no obsolete line folding
    if (!TOKEN.test(name)) throw new HttpError(400, "malformed header field");
    const value = field.slice(colon + 1).trim();
    if (!validValue(value)) throw new HttpError(400, "malformed header field value");
    const key = name.toLowerCase();
    const prev = headers.get(key);
    headers.set(key, prev === undefined ? value : `${prev}, ${value}`);
  }
  return interpret(m[1] as string, m[2] as string, Number(m[3]), headers);
}

function interpret(
  method: string,
  target: string,
  minor: number,
  headers: Map<string, string>,
): Head {
  if (minor === 1 && !headers.has("host")) throw new HttpError(400, "missing Host header");
  const connection = (headers.get("connection") ?? "").toLowerCase();
  const tokens = connection.split(",").map((t) => t.trim());
  const keepAlive = minor === 1 ? !tokens.includes("close") : tokens.includes("keep-alive");
  const te = headers.get("transfer-encoding");
  const cl = headers.get("content-length");
  let body: Head["body"] = { kind: "none" };
  if (te !== undefined) {
    // RFC 9112 6.1: both is a smuggling attempt; only "chunked" (last) is understood here
    if (cl !== undefined) throw new HttpError(400, "both Transfer-Encoding and Content-Length");
    if (te.toLowerCase() !== "chunked") throw new HttpError(501, "unsupported transfer coding");
    body = { kind: "chunked" };
  } else if (cl !== undefined) {
    // Repeated identical values ("5, 5") are allowed by RFC 9110 8.6; anything else is not.
    const values = new Set(cl.split(",").map((v) => v.trim()));
    const [only] = values;
    if (values.size !== 1 || only === undefined || !/^\d{1,15}$/.test(only)) {
      throw new HttpError(400, "invalid Content-Length");
    }
    const length = Number(only);
    if (length > 0) body = { kind: "length", length };
  }
  const expectContinue = (headers.get("expect") ?? "").toLowerCase() === "100-continue";
  return { method, target, minor, headers, keepAlive, body, expectContinue };
}

/** The `maxSize` a connection's reader needs for `limits`. */
export function readerSize(limits: HttpLimits): number {
  return Math.max(limits.maxRequestLine, limits.maxHeaderBytes) + 4;
}

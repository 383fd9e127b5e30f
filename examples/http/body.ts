/**
 * Reading a request body, by Content-Length or chunked (RFC 9112 7.1), into memory, never more
 * than `maxBody` bytes of it.
 * @module
 */
import { BufferLimitExceeded, type BufReader } from "weir";
import { type Head, HttpError } from "./request.ts";

const HEX_LINE = /^([0-9A-Fa-f]{1,8})(?:[ \t]*;.*)?$/;

/**
 * Reads the body `head` announces. `touch` is called as bytes arrive (for the idle timeout).
 * @throws HttpError 413 past `maxBody`, 400 for a malformed chunk.
 * @throws EndOfFile if the connection ends inside the body.
 */
export async function readBody(
  r: BufReader,
  head: Head,
  maxBody: number,
  touch: () => void,
): Promise<Uint8Array> {
  const body = head.body;
  if (body.kind === "none") return new Uint8Array(0);
  if (body.kind === "length") {
    if (body.length > maxBody) throw new HttpError(413, "body too large");
    const out = new Uint8Array(body.length);
    await copyInto(r, out, 0, body.length, touch);
    return out;
  }
  const parts: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const size = await chunkSize(r);
    if (size === 0) break;
    if (total + size > maxBody) throw new HttpError(413, "body too large");
    const part = new Uint8Array(size);
    await copyInto(r, part, 0, size, touch);
    parts.push(part);
    total += size;
    if ((await r.line()) !== "") throw new HttpError(400, "chunk not followed by CRLF");
  }
  // Trailer fields: read and dropped, within the same bound as header fields.
  for (let n = 0; ; n++) {
    const t = await r.line();
    if (t === "") break;
    if (n === 100) throw new HttpError(431, "too many trailer fields");
  }
  if (parts.length === 1) return parts[0] as Uint8Array;
  const out = new Uint8Array(total);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

async function chunkSize(r: BufReader): Promise<number> {
  let l: string;
  try {
    l = await r.line();
  } catch (e) {
    if (e instanceof BufferLimitExceeded) throw new HttpError(400, "chunk size line too long");
    throw e;
  }
  const m = HEX_LINE.exec(l);
  if (m === null) throw new HttpError(400, "malformed chunk size");
  return Number.parseInt(m[1] as string, 16);
}

/** Copies the next `n` bytes of `r` into `out` at `at`, as they arrive. */
async function copyInto(
  r: BufReader,
  out: Uint8Array,
  at: number,
  n: number,
  touch: () => void,
): Promise<void> {
  let left = n;
  while (left > 0) {
    if (r.buffered === 0) {
      await r.ensure(1);
      touch();
    }
    const view = r.peek();
    const k = Math.min(left, view.length);
    out.set(view.subarray(0, k), at);
    r.consume(k);
    at += k;
    left -= k;
  }
}

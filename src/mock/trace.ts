/**
 * How the mocks print data in their trace lines, as Eio's mocks do: strings quoted like
 * OCaml's `%S`, and data split after each newline with the continuation lines aligned under
 * the first quote.
 * @module
 */
import { currentFiber, traceln } from "../core/index.ts";

const encoder = new TextEncoder();

/** The bytes of `data`: a string is encoded as UTF-8. */
export function toBytes(data: string | Uint8Array): Uint8Array {
  return typeof data === "string" ? encoder.encode(data) : data;
}

/**
 * Quotes bytes as OCaml's `%S` (`String.escaped`) does: `"` and `\` are escaped, `\n`, `\t`,
 * `\r` and `\b` are written so, other bytes outside printable ASCII as `\DDD` (decimal), so
 * UTF-8 text shows its bytes (`"é"` is `"\195\169"`). A string is quoted as its UTF-8 bytes.
 * @example
 * ```ts
 * quote("GET /\r\n"); // "\"GET /\\r\\n\""
 * ```
 */
export function quote(data: string | Uint8Array): string {
  const bytes = toBytes(data);
  let out = '"';
  for (const b of bytes) {
    switch (b) {
      case 0x22:
        out += '\\"';
        break;
      case 0x5c:
        out += "\\\\";
        break;
      case 0x0a:
        out += "\\n";
        break;
      case 0x09:
        out += "\\t";
        break;
      case 0x0d:
        out += "\\r";
        break;
      case 0x08:
        out += "\\b";
        break;
      default:
        out += b >= 0x20 && b < 0x7f ? String.fromCharCode(b) : `\\${String(b).padStart(3, "0")}`;
    }
  }
  return `${out}"`;
}

/**
 * Splits `bytes` after each newline (Eio's mock flow printer): one piece per line, the last
 * without a newline unless the data ends with one.
 */
export function splitLines(bytes: Uint8Array): Uint8Array[] {
  const parts: Uint8Array[] = [];
  let start = 0;
  for (let i = 0; i < bytes.length; i++) {
    if (bytes[i] === 0x0a) {
      parts.push(bytes.subarray(start, i + 1));
      start = i + 1;
    }
  }
  if (start < bytes.length || parts.length === 0) parts.push(bytes.subarray(start));
  return parts;
}

/**
 * Lays out `bytes` for a trace line whose data starts at column `col`: each line of the data
 * quoted on its own, continuation lines indented by `col` spaces.
 */
export function layoutData(bytes: Uint8Array, col: number): string {
  const pad = `\n${" ".repeat(col)}`;
  return splitLines(bytes)
    .map((p) => quote(p))
    .join(pad);
}

/**
 * Lays out a vectored write of several buffers as Eio prints a list: `["a"; "b"]`, with each
 * element's continuation lines aligned under its own first quote.
 */
export function layoutList(bufs: readonly Uint8Array[], col: number): string {
  let out = "[";
  let c = col + 1;
  bufs.forEach((b, i) => {
    if (i > 0) {
      out += "; ";
      c += 2;
    }
    const text = layoutData(b, c);
    out += text;
    const lastLine = text.slice(text.lastIndexOf("\n") + 1);
    c = text.includes("\n") ? lastLine.length : c + text.length;
  });
  return `${out}]`;
}

/**
 * Writes the trace line `label: verb DATA`, with the data laid out (see {@link layoutData})
 * so that continuation lines sit under the first quote, counting the fiber's trace prefix
 * (a mock domain's `[1] `).
 */
export function traceData(
  label: string,
  verb: string,
  data: Uint8Array | readonly Uint8Array[],
): void {
  const head = `${label}: ${verb} `;
  const col = currentFiber().tracePrefix.length + head.length;
  const body = data instanceof Uint8Array ? layoutData(data, col) : layoutList(data, col);
  traceln("%s", head + body);
}

/** Writes one plain trace line (no `%` formatting of `text`). */
export function trace(text: string): void {
  traceln("%s", text);
}

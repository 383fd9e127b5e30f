/**
 * Parsing and reading PROXY headers of either version.
 * @module
 */
import { type BlockingOptions, EndOfFile, IoError } from "../../core/index.ts";
import type { Source } from "../../flow/types.ts";
import type { ProxyHeader, ProxyParse, ProxyParseOptions, ProxyProtocolMode } from "./types.ts";
import { parseV1 } from "./v1.ts";
import { parseV2 } from "./v2.ts";

/**
 * Parses the PROXY header at the start of `bytes` (the bytes read so far), as `mode` allows.
 * Fails as soon as no header can start with `bytes`, so a peer sending something else is
 * turned away at its first bytes; a prefix of a valid header is `incomplete`, with a lower
 * bound of the bytes still needed.
 * @example
 * ```ts
 * parseProxyHeader(new TextEncoder().encode("PROXY UNKNOWN\r\nGET /"), "any");
 * // { status: "done", length: 15, header: { version: 1, command: "PROXY", source: null, ... } }
 * ```
 */
export function parseProxyHeader(
  bytes: Uint8Array,
  mode: ProxyProtocolMode,
  opts: ProxyParseOptions = {},
): ProxyParse {
  if (bytes.length === 0) return { status: "incomplete", need: mode === "v2" ? 16 : 15 };
  const first = bytes[0];
  if (first === 0x50 && mode !== "v2") return parseV1(bytes); // "P"
  if (first === 0x0d && mode !== "v1") return parseV2(bytes, opts);
  return {
    status: "invalid",
    fault: "Missing",
    detail: `no PROXY ${mode === "any" ? "v1 or v2" : mode} header: the first byte is 0x${first!.toString(16).padStart(2, "0")}`,
  };
}

/** Options of {@link readProxyHeader}. */
export interface ReadProxyHeaderOptions extends ProxyParseOptions, BlockingOptions {
  /** Which versions to accept. */
  readonly mode: ProxyProtocolMode;
}

/**
 * Reads a PROXY header from `src`, never a byte beyond it: what follows is left in `src` for
 * the application. It reads at most as much as the shortest header that could still follow
 * the bytes so far, so a few reads suffice.
 * @throws IoError `{ kind: "ProxyProtocol" }` if the bytes are not a header (or end first:
 *   `Missing`); what `src.readInto` throws otherwise (`Cancelled`, a reset).
 */
export async function readProxyHeader(
  src: Source,
  opts: ReadProxyHeaderOptions,
): Promise<ProxyHeader> {
  let buf = new Uint8Array(64);
  let have = 0;
  for (;;) {
    const r = parseProxyHeader(buf.subarray(0, have), opts.mode, opts);
    if (r.status === "done") return r.header;
    if (r.status === "invalid") {
      throw new IoError({ kind: "ProxyProtocol", reason: r.fault, detail: r.detail });
    }
    if (have + r.need > buf.length) {
      const bigger = new Uint8Array(Math.max(buf.length * 2, have + r.need));
      bigger.set(buf.subarray(0, have));
      buf = bigger;
    }
    let n: number;
    try {
      n = await src.readInto(buf.subarray(have, have + r.need), opts);
    } catch (e) {
      if (e instanceof EndOfFile) {
        const detail =
          have === 0
            ? "the connection ended before any byte"
            : `the connection ended after ${have} bytes of a header`;
        throw new IoError({ kind: "ProxyProtocol", reason: "Missing", detail });
      }
      throw e;
    }
    have += n;
  }
}

/**
 * The PROXY protocol (HAProxy's, versions 1 and 2): the header a load balancer sends first on
 * each connection it forwards, saying whom the connection is really from.
 * @module
 */
import type { Sockaddr } from "../sockaddr.ts";

/** Which header a listener expects: v1 (text), v2 (binary), or either. */
export type ProxyProtocolMode = "v1" | "v2" | "any";

/** One v2 TLV field (type-length-value), as sent. */
export interface ProxyTlv {
  /** The type byte (`0x01` ALPN, `0x02` authority, `0x05` unique id, ...). */
  readonly type: number;
  /** The value bytes. */
  readonly value: Uint8Array;
}

/**
 * A parsed PROXY header. `command` `"LOCAL"` is a connection the balancer made itself (a
 * health check): the connection's own addresses stand. With `"PROXY"`, `source` is the client
 * and `destination` the address it connected to, or both `null` when the sender could not say
 * (v1 `UNKNOWN`, v2 `AF_UNSPEC`).
 */
export interface ProxyHeader {
  /** 1 (text) or 2 (binary). */
  readonly version: 1 | 2;
  /** `"PROXY"`: a forwarded connection; `"LOCAL"` (v2 only): the balancer's own. */
  readonly command: "PROXY" | "LOCAL";
  /** The client's address (`tcp:`, `udp:` or `unix:`), or `null`. */
  readonly source: Sockaddr | null;
  /** The address the client connected to, or `null`. */
  readonly destination: Sockaddr | null;
  /** The v2 TLV fields in the order sent (empty for v1). */
  readonly tlvs: readonly ProxyTlv[];
  /** The ALPN protocol the client negotiated with the balancer (v2 TLV 0x01), if sent. */
  readonly alpn?: string | undefined;
  /** The host name the client asked for, e.g. its TLS SNI (v2 TLV 0x02), if sent. */
  readonly authority?: string | undefined;
  /** The balancer's id for this connection (v2 TLV 0x05, at most 128 bytes), if sent. */
  readonly uniqueId?: Uint8Array | undefined;
}

/** Why a byte string is not a PROXY header. */
export type ProxyHeaderFault = "Missing" | "Malformed" | "TooLong";

/**
 * What the parser makes of the bytes read so far:
 * - `done`: a header of `length` bytes (what follows belongs to the application);
 * - `incomplete`: a prefix of a valid header; read at least `need` more bytes (never more than
 *   the shortest header that could still follow, so that no application byte is consumed);
 * - `invalid`: no byte string that starts with these is a header.
 */
export type ProxyParse =
  | { readonly status: "done"; readonly header: ProxyHeader; readonly length: number }
  | { readonly status: "incomplete"; readonly need: number }
  | { readonly status: "invalid"; readonly fault: ProxyHeaderFault; readonly detail: string };

/** Options of the parser. */
export interface ProxyParseOptions {
  /** The largest v2 header accepted (16 + its length field), default 4096 bytes. */
  readonly maxV2Bytes?: number | undefined;
}

/** The 12-byte signature that starts every v2 header. */
export const V2_SIGNATURE: Uint8Array = Uint8Array.of(
  0x0d,
  0x0a,
  0x0d,
  0x0a,
  0x00,
  0x0d,
  0x0a,
  0x51,
  0x55,
  0x49,
  0x54,
  0x0a,
);

/** The longest v1 header, its CRLF included (the specification's 107 bytes). */
export const V1_MAX_BYTES = 107;

/** The default cap on a v2 header (16 bytes + its length field). */
export const DEFAULT_MAX_V2_BYTES = 4096;

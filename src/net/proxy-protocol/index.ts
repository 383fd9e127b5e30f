/**
 * The PROXY protocol, versions 1 and 2: parse, read from a flow, encode.
 * @module
 */
import { parseProxyHeader, readProxyHeader } from "./parse.ts";
import { encodeV1 } from "./v1.ts";
import { encodeV2, TLV, tlvsOf } from "./v2.ts";

export { parseProxyHeader, type ReadProxyHeaderOptions, readProxyHeader } from "./parse.ts";
export { ProxiedSocket, ProxyListeningSocket } from "./proxied-socket.ts";
export type {
  ProxyHeader,
  ProxyHeaderFault,
  ProxyParse,
  ProxyParseOptions,
  ProxyProtocolMode,
  ProxyTlv,
} from "./types.ts";
export { DEFAULT_MAX_V2_BYTES, V1_MAX_BYTES, V2_SIGNATURE } from "./types.ts";
export { encodeV1 } from "./v1.ts";
export { encodeV2, TLV, tlvsOf } from "./v2.ts";

/**
 * The PROXY protocol (HAProxy's v1 and v2), for servers behind a load balancer and for
 * programs that are one: `parse` (incremental, bytes read so far), `read` (from a flow, never
 * past the header), `encodeV1`/`encodeV2`, `tlvsOf` and the `TLV` type numbers. To listen
 * behind a balancer, give `net.listen` (or `Tcp.Server.create`) `proxyProtocol`.
 * @example
 * ```ts
 * const h = await ProxyProtocol.read(sock, { mode: "any" });
 * h.source; // tcp:192.0.2.7:56324, the client
 * ```
 */
export const ProxyProtocol = Object.freeze({
  parse: parseProxyHeader,
  read: readProxyHeader,
  encodeV1,
  encodeV2,
  tlvsOf,
  TLV,
});

/**
 * The PROXY protocol, versions 1 and 2: parse, read from a flow, encode.
 * @module
 */
export { parseProxyHeader, type ReadProxyHeaderOptions, readProxyHeader } from "./parse.ts";
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

/**
 * PROXY protocol version 2: a 16-byte binary head (signature, version and command, family and
 * transport, length), the addresses, then TLV fields.
 * @module
 */
import { Ipaddr } from "../ipaddr.ts";
import { Sockaddr } from "../sockaddr.ts";
import {
  DEFAULT_MAX_V2_BYTES,
  type ProxyHeader,
  type ProxyParse,
  type ProxyParseOptions,
  type ProxyTlv,
  V2_SIGNATURE,
} from "./types.ts";

/** TLV types this module reads (the others are kept, undecoded, in `tlvs`). */
export const TLV = Object.freeze({
  ALPN: 0x01,
  AUTHORITY: 0x02,
  CRC32C: 0x03,
  NOOP: 0x04,
  UNIQUE_ID: 0x05,
  SSL: 0x20,
  NETNS: 0x30,
});

const FAMILY_BLOCK = [0, 12, 36, 216] as const; // UNSPEC, INET, INET6, UNIX
const UNIX_PATH = 108;
const utf8 = new TextDecoder("utf-8", { fatal: true });
const utf8Encoder = new TextEncoder();

function malformed(detail: string): ProxyParse {
  return { status: "invalid", fault: "Malformed", detail };
}

function hex(b: number): string {
  return `0x${b.toString(16).padStart(2, "0")}`;
}

/**
 * Parses a v2 header at the start of `bytes` (which starts with `\r`, or is empty).
 * @returns done, incomplete (needing at least `need` more bytes) or invalid.
 */
export function parseV2(bytes: Uint8Array, opts: ProxyParseOptions = {}): ProxyParse {
  const max = opts.maxV2Bytes ?? DEFAULT_MAX_V2_BYTES;
  const sig = Math.min(bytes.length, V2_SIGNATURE.length);
  for (let i = 0; i < sig; i++) {
    if (bytes[i] !== V2_SIGNATURE[i])
      return { status: "invalid", fault: "Missing", detail: "no v2 signature" };
  }
  if (bytes.length < 16) {
    if (bytes.length > 12) {
      const why = checkHead(bytes);
      if (why !== null) return malformed(why);
    }
    return { status: "incomplete", need: 16 - bytes.length };
  }
  const why = checkHead(bytes);
  if (why !== null) return malformed(why);
  const length = 16 + ((bytes[14]! << 8) | bytes[15]!);
  if (length > max) {
    return {
      status: "invalid",
      fault: "TooLong",
      detail: `a v2 header of ${length} bytes, over the limit of ${max}`,
    };
  }
  const family = bytes[13]! >> 4;
  if (length - 16 < FAMILY_BLOCK[family as 0 | 1 | 2 | 3]) {
    return malformed(
      `a length of ${length - 16} bytes, too short for the addresses of family ${family}`,
    );
  }
  if (bytes.length < length) return { status: "incomplete", need: length - bytes.length };
  return decode(bytes.subarray(0, length));
}

/** Checks the version/command and family/transport bytes (those present). */
function checkHead(bytes: Uint8Array): string | null {
  const vc = bytes[12]!;
  if (vc >> 4 !== 2) return `version ${vc >> 4}, not 2`;
  if ((vc & 0x0f) > 1) return `an unknown command ${hex(vc & 0x0f)}`;
  if (bytes.length < 14) return null;
  const ft = bytes[13]!;
  if (ft >> 4 > 3) return `an unknown address family ${hex(ft >> 4)}`;
  if ((ft & 0x0f) > 2) return `an unknown transport ${hex(ft & 0x0f)}`;
  return null;
}

function decode(h: Uint8Array): ProxyParse {
  const command = (h[12]! & 0x0f) === 0 ? "LOCAL" : "PROXY";
  const family = h[13]! >> 4;
  const dgram = (h[13]! & 0x0f) === 2;
  const block = FAMILY_BLOCK[family as 0 | 1 | 2 | 3];
  const read = readTlvs(h, 16 + block);
  if (typeof read === "string") return malformed(read);
  const { tlvs, crcAt } = read;
  let alpn: string | undefined;
  let authority: string | undefined;
  let uniqueId: Uint8Array | undefined;
  for (const t of tlvs) {
    if (t.type === TLV.CRC32C) {
      if (t.value.length !== 4)
        return malformed(`a CRC32C field of ${t.value.length} bytes, not 4`);
      const sent = new DataView(t.value.buffer, t.value.byteOffset, 4).getUint32(0);
      if (crc32cWithFieldZeroed(h, crcAt) !== sent) {
        return malformed("its CRC32C checksum does not match");
      }
    } else if (t.type === TLV.UNIQUE_ID) {
      if (t.value.length > 128)
        return malformed(`a unique id of ${t.value.length} bytes, over 128`);
      uniqueId = t.value;
    } else if (t.type === TLV.ALPN || t.type === TLV.AUTHORITY) {
      let text: string;
      try {
        text = utf8.decode(t.value);
      } catch {
        return malformed(
          `an ${t.type === TLV.ALPN ? "ALPN" : "authority"} field that is not UTF-8`,
        );
      }
      if (t.type === TLV.ALPN) alpn = text;
      else authority = text;
    }
  }
  let source: Sockaddr | null = null;
  let destination: Sockaddr | null = null;
  if (command === "PROXY" && family !== 0) {
    const a = addresses(h, family, dgram);
    if (typeof a === "string") return malformed(a);
    [source, destination] = a;
  }
  const header: ProxyHeader = {
    version: 2,
    command,
    source,
    destination,
    tlvs,
    ...(alpn === undefined ? {} : { alpn }),
    ...(authority === undefined ? {} : { authority }),
    ...(uniqueId === undefined ? {} : { uniqueId }),
  };
  return { status: "done", header, length: h.length };
}

/** The TLV fields from `from` on, and where the (last) CRC32C value is; or what is wrong. */
function readTlvs(h: Uint8Array, from: number): { tlvs: ProxyTlv[]; crcAt: number } | string {
  const tlvs: ProxyTlv[] = [];
  let crcAt = -1;
  let i = from;
  while (i < h.length) {
    if (h.length - i < 3) return `a TLV field cut short at byte ${i}`;
    const type = h[i]!;
    const len = (h[i + 1]! << 8) | h[i + 2]!;
    if (i + 3 + len > h.length) return `a TLV field (type ${hex(type)}) of ${len} bytes cut short`;
    tlvs.push({ type, value: h.slice(i + 3, i + 3 + len) });
    if (type === TLV.CRC32C) crcAt = i + 3;
    i += 3 + len;
  }
  return { tlvs, crcAt };
}

/** The source and destination addresses of the block; or what is wrong with them. */
function addresses(h: Uint8Array, family: number, dgram: boolean): [Sockaddr, Sockaddr] | string {
  const view = new DataView(h.buffer, h.byteOffset, h.length);
  if (family === 3) {
    try {
      return [Sockaddr.unix(unixPath(h, 16)), Sockaddr.unix(unixPath(h, 16 + UNIX_PATH))];
    } catch (e) {
      // an abstract name may hold NULs, a path may start with "@": weir's addresses cannot
      return `a unix address weir cannot hold (${(e as Error).message})`;
    }
  }
  const size = family === 1 ? 4 : 16;
  const src = Ipaddr.ofRaw(h.subarray(16, 16 + size));
  const dst = Ipaddr.ofRaw(h.subarray(16 + size, 16 + 2 * size));
  const sport = view.getUint16(16 + 2 * size);
  const dport = view.getUint16(18 + 2 * size);
  const make = dgram ? Sockaddr.udp : Sockaddr.tcp;
  return [make(src, sport), make(dst, dport)];
}

/** A 108-byte sun_path: up to its first NUL, or an abstract name (first byte NUL) without its trailing NULs. */
function unixPath(h: Uint8Array, at: number): string {
  const field = h.subarray(at, at + UNIX_PATH);
  let end: number;
  if (field[0] === 0) {
    end = UNIX_PATH;
    while (end > 1 && field[end - 1] === 0) end--;
  } else {
    end = field.indexOf(0);
    if (end === -1) end = UNIX_PATH;
  }
  return String.fromCharCode(...field.subarray(0, end));
}

/**
 * The v2 header for `header`: `command`, the addresses (both `tcp:`/`udp:` of one family, both
 * `unix:`, or both `null` for AF_UNSPEC) and `tlvs` as given (a CRC32C field is recomputed).
 * @throws RangeError if the addresses are of different families or kinds, a unix path is
 *   over 108 bytes, or the header would be over 65 551 bytes.
 */
export function encodeV2(header: ProxyHeader): Uint8Array {
  const { source: s, destination: d } = header;
  let family = 0;
  let transport = 0;
  let block = new Uint8Array(0);
  if (s !== null || d !== null) {
    if (s === null || d === null || s.type !== d.type) {
      throw new RangeError(
        `source and destination must be of one kind, got ${describe(s)} and ${describe(d)}`,
      );
    }
    if (s.type === "unix" && d.type === "unix") {
      family = 3;
      transport = 1;
      block = new Uint8Array(2 * UNIX_PATH);
      block.set(pathBytes(s.path), 0);
      block.set(pathBytes(d.path), UNIX_PATH);
    } else if (s.type !== "unix" && d.type !== "unix") {
      if (s.host.family !== d.host.family) {
        throw new RangeError(
          `source and destination must be of one family, got ${describe(s)} and ${describe(d)}`,
        );
      }
      family = s.host.family === 4 ? 1 : 2;
      transport = s.type === "udp" ? 2 : 1;
      const size = family === 1 ? 4 : 16;
      block = new Uint8Array(2 * size + 4);
      block.set(s.host.raw, 0);
      block.set(d.host.raw, size);
      const v = new DataView(block.buffer);
      v.setUint16(2 * size, s.port);
      v.setUint16(2 * size + 2, d.port);
    }
  }
  let tlvBytes = 0;
  for (const t of header.tlvs) tlvBytes += 3 + t.value.length;
  const length = 16 + block.length + tlvBytes;
  if (length - 16 > 0xffff)
    throw new RangeError(`a v2 header of ${length} bytes is too long (at most 65551)`);
  const out = new Uint8Array(length);
  out.set(V2_SIGNATURE, 0);
  out[12] = 0x20 | (header.command === "LOCAL" ? 0 : 1);
  out[13] = (family << 4) | transport;
  out[14] = (length - 16) >> 8;
  out[15] = (length - 16) & 0xff;
  out.set(block, 16);
  let i = 16 + block.length;
  let crcAt = -1;
  for (const t of header.tlvs) {
    out[i] = t.type;
    out[i + 1] = t.value.length >> 8;
    out[i + 2] = t.value.length & 0xff;
    if (t.type === TLV.CRC32C && t.value.length === 4) crcAt = i + 3;
    else out.set(t.value, i + 3);
    i += 3 + t.value.length;
  }
  if (crcAt !== -1) new DataView(out.buffer).setUint32(crcAt, crc32cWithFieldZeroed(out, crcAt));
  return out;
}

/** The TLV fields for an ALPN protocol, an authority and a unique id (those given). */
export function tlvsOf(fields: {
  alpn?: string;
  authority?: string;
  uniqueId?: Uint8Array;
}): ProxyTlv[] {
  const out: ProxyTlv[] = [];
  if (fields.alpn !== undefined)
    out.push({ type: TLV.ALPN, value: utf8Encoder.encode(fields.alpn) });
  if (fields.authority !== undefined) {
    out.push({ type: TLV.AUTHORITY, value: utf8Encoder.encode(fields.authority) });
  }
  if (fields.uniqueId !== undefined) out.push({ type: TLV.UNIQUE_ID, value: fields.uniqueId });
  return out;
}

function pathBytes(path: string): Uint8Array {
  if (path.length > UNIX_PATH)
    throw new RangeError(`a unix path of at most 108 bytes, got ${path.length}`);
  return Uint8Array.from(path, (c) => {
    const b = c.charCodeAt(0);
    if (b > 0xff)
      throw new RangeError(`a unix path of bytes (\\x00..\\xff), got ${JSON.stringify(path)}`);
    return b;
  });
}

function describe(a: Sockaddr | null): string {
  return a === null ? "null" : Sockaddr.format(a);
}

const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0x82f63b78 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

/** CRC-32C (Castagnoli) of `bytes`, with the 4 bytes at `zeroAt` read as zeros. */
function crc32cWithFieldZeroed(bytes: Uint8Array, zeroAt: number): number {
  let c = 0xffffffff;
  for (let i = 0; i < bytes.length; i++) {
    const b = i >= zeroAt && i < zeroAt + 4 ? 0 : bytes[i]!;
    c = CRC_TABLE[(c ^ b) & 0xff]! ^ (c >>> 8);
  }
  return (c ^ 0xffffffff) >>> 0;
}

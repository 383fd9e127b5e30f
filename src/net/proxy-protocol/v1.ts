/**
 * PROXY protocol version 1: one line of text, `PROXY TCP4 <src> <dst> <sport> <dport>\r\n`
 * (or `TCP6`, or `UNKNOWN` followed by anything), at most 107 bytes.
 * @module
 */
import { Ipaddr } from "../ipaddr.ts";
import { Sockaddr } from "../sockaddr.ts";
import { type ProxyHeader, type ProxyParse, V1_MAX_BYTES } from "./types.ts";

const PREFIX = "PROXY ";
const CR = 0x0d;
const LF = 0x0a;

/** The shortest text of each field, by protocol: the parser never asks for more than this. */
const MIN_FIELD = { TCP4: [7, 7, 1, 1], TCP6: [2, 2, 1, 1] } as const;

function invalid(detail: string): ProxyParse {
  return { status: "invalid", fault: "Malformed", detail };
}

/** Quotes header text for an error message (control bytes escaped). */
function show(text: string): string {
  return JSON.stringify(text);
}

/**
 * Parses a v1 header at the start of `bytes` (which starts with `P`, or is empty).
 * @returns done, incomplete (with a lower bound of the bytes still needed) or invalid.
 */
export function parseV1(bytes: Uint8Array): ProxyParse {
  const n = Math.min(bytes.length, V1_MAX_BYTES);
  let end = -1;
  for (let i = 0; i < n; i++) {
    const b = bytes[i]!;
    if (b === LF) {
      if (i === 0 || bytes[i - 1] !== CR) return invalid("a bare LF before the end of the line");
      end = i - 1;
      break;
    }
    if (b === CR && i + 1 < n && bytes[i + 1] !== LF) return invalid("a CR not followed by LF");
    if (b !== CR && (b < 0x20 || b > 0x7e)) {
      return invalid(`a byte 0x${b.toString(16).padStart(2, "0")} that is not printable text`);
    }
  }
  const text = String.fromCharCode(...bytes.subarray(0, end === -1 ? n : end));
  // Check the prefix so far, so that garbage fails at once instead of waiting for more bytes.
  const head = text.slice(0, PREFIX.length);
  if (!PREFIX.startsWith(head)) return invalid(`does not start with "PROXY ": ${show(head)}`);
  if (end === -1) {
    if (bytes.length >= V1_MAX_BYTES) {
      return {
        status: "invalid",
        fault: "TooLong",
        detail: `no CRLF in the first ${V1_MAX_BYTES} bytes`,
      };
    }
    if (bytes[n - 1] === CR) {
      // the line may end with the next byte: it must be a whole header already
      const line = parseLine(text.slice(0, -1));
      return line.status === "invalid" ? line : { status: "incomplete", need: 1 };
    }
    return checkPrefix(text);
  }
  return parseLine(text);
}

/** A prefix without CRLF: invalid, or incomplete with the bytes it needs at least. */
function checkPrefix(text: string): ProxyParse {
  if (text.length < PREFIX.length) return { status: "incomplete", need: 15 - text.length };
  const fields = text.slice(PREFIX.length).split(" ");
  const proto = fields[0]!;
  if (fields.length === 1) {
    if (!"UNKNOWN".startsWith(proto) && !"TCP4".startsWith(proto) && !"TCP6".startsWith(proto)) {
      return invalid(`an unknown protocol ${show(proto)}`);
    }
    // "PROXY UNKNOWN\r\n" is the shortest header (15 bytes)
    return { status: "incomplete", need: Math.max(1, 15 - text.length) };
  }
  if (proto === "UNKNOWN") return { status: "incomplete", need: 2 }; // anything, then CRLF
  if (proto !== "TCP4" && proto !== "TCP6") return invalid(`an unknown protocol ${show(proto)}`);
  const rest = fields.slice(1);
  if (rest.length > 4) return invalid(`too many fields in ${show(text)}`);
  const min = MIN_FIELD[proto];
  for (let i = 0; i < rest.length - 1; i++) {
    const why = checkField(proto, i, rest[i]!, true);
    if (why !== null) return invalid(why);
  }
  const last = rest.length - 1;
  const why = checkField(proto, last, rest[last]!, false);
  if (why !== null) return invalid(why);
  // what the last field still lacks, then each field after it with its space, then CRLF
  let need = Math.max(0, min[last]! - rest[last]!.length);
  for (let i = last + 1; i < 4; i++) need += 1 + min[i]!;
  return { status: "incomplete", need: need + 2 };
}

/** Checks field `i` (0 src, 1 dst, 2 sport, 3 dport) of a header; `whole`: it has ended. */
function checkField(proto: "TCP4" | "TCP6", i: number, f: string, whole: boolean): string | null {
  if (f === "") return whole ? `an empty field in the ${fieldName(i)}` : null;
  if (i < 2) {
    const chars = proto === "TCP4" ? /^[0-9.]+$/ : /^[0-9a-fA-F:.]+$/;
    if (!chars.test(f)) return `a bad ${fieldName(i)} ${show(f)}`;
    if (f.length > 45) return `a ${fieldName(i)} too long: ${show(f)}`;
    if (whole) return addressProblem(proto, i, f);
    return null;
  }
  if (!/^[0-9]+$/.test(f) || f.length > 5 || (f.length > 1 && f[0] === "0")) {
    return `a bad ${fieldName(i)} ${show(f)}`;
  }
  if (whole && Number(f) > 65535) return `a ${fieldName(i)} out of range: ${show(f)}`;
  return null;
}

function fieldName(i: number): string {
  return ["source address", "destination address", "source port", "destination port"][i]!;
}

function addressProblem(proto: "TCP4" | "TCP6", i: number, f: string): string | null {
  const ip = address(proto, i, f);
  return typeof ip === "string" ? ip : null;
}

/** Field `i` (0 or 1) as an address of `proto`'s family, or what is wrong with it. */
function address(proto: "TCP4" | "TCP6", i: number, f: string): Ipaddr | string {
  let ip: Ipaddr;
  try {
    ip = Ipaddr.parse(f);
  } catch {
    return `a bad ${fieldName(i)} ${show(f)}`;
  }
  const want = proto === "TCP4" ? 4 : 6;
  const got = f.includes(":") ? 6 : ip.family;
  if (got !== want) return `${proto} with an IPv${got} ${fieldName(i)} ${show(f)}`;
  return ip;
}

/** A whole line (without its CRLF). */
function parseLine(text: string): ProxyParse {
  const length = text.length + 2;
  if (!text.startsWith(PREFIX)) return invalid(`does not start with "PROXY ": ${show(text)}`);
  const fields = text.slice(PREFIX.length).split(" ");
  const proto = fields[0]!;
  if (proto === "UNKNOWN") {
    const header: ProxyHeader = {
      version: 1,
      command: "PROXY",
      source: null,
      destination: null,
      tlvs: [],
    };
    return { status: "done", header, length };
  }
  if (proto !== "TCP4" && proto !== "TCP6") return invalid(`an unknown protocol ${show(proto)}`);
  if (fields.length !== 5) return invalid(`${fields.length - 1} fields after ${proto}, not 4`);
  const [, , , sport, dport] = fields as [string, string, string, string, string];
  const ips: Ipaddr[] = [];
  for (let i = 0; i < 4; i++) {
    const f = fields[i + 1]!;
    const why = checkField(proto, i, f, i >= 2);
    if (why !== null) return invalid(why);
    if (i < 2) {
      const ip = address(proto, i, f);
      if (typeof ip === "string") return invalid(ip);
      ips.push(ip);
    }
  }
  const header: ProxyHeader = {
    version: 1,
    command: "PROXY",
    source: Sockaddr.tcp(ips[0]!, Number(sport)),
    destination: Sockaddr.tcp(ips[1]!, Number(dport)),
    tlvs: [],
  };
  return { status: "done", header, length };
}

/**
 * The v1 header for `header` (its TLVs are dropped: v1 has none; a `LOCAL` command or
 * addresses that are not both TCP of one family are sent as `UNKNOWN`).
 * @example
 * ```ts
 * encodeV1({ version: 1, command: "PROXY", source: Sockaddr.parse("tcp:1.2.3.4:5"),
 *   destination: Sockaddr.parse("tcp:5.6.7.8:80"), tlvs: [] });
 * // "PROXY TCP4 1.2.3.4 5.6.7.8 5 80\r\n" as bytes
 * ```
 */
export function encodeV1(header: ProxyHeader): Uint8Array {
  const { source: s, destination: d } = header;
  let line = "PROXY UNKNOWN\r\n";
  if (
    header.command === "PROXY" &&
    s !== null &&
    d !== null &&
    s.type === "tcp" &&
    d.type === "tcp" &&
    s.host.family === d.host.family
  ) {
    line = `PROXY TCP${s.host.family} ${s.host} ${d.host} ${s.port} ${d.port}\r\n`;
  }
  return Uint8Array.from(line, (c) => c.charCodeAt(0));
}

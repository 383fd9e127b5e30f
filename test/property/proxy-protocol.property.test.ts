/**
 * Property tests of the PROXY protocol parser: every header round-trips through its encoding,
 * whatever the chunking of the bytes and whatever follows them (which stays in the flow, so
 * the parser never reads an application byte); every byte string, cut into chunks of any
 * size, is either a header or a typed rejection (never a crash or a hang); and the parser's
 * `need` never asks for more than the shortest header that could still follow.
 */
import fc from "fast-check";
import { describe, expect, test } from "vitest";
import { EndOfFile, IoError } from "../../src/core/index.ts";
import { ChunkedSource } from "../../src/flow/test-helpers/chunked-source.ts";
import { Ipaddr } from "../../src/net/ipaddr.ts";
import {
  encodeV1,
  encodeV2,
  type ProxyHeader,
  parseProxyHeader,
  readProxyHeader,
  TLV,
  tlvsOf,
} from "../../src/net/proxy-protocol/index.ts";
import { Sockaddr } from "../../src/net/sockaddr.ts";

const RUNS = 400;

const v4 = fc.uint8Array({ minLength: 4, maxLength: 4 }).map((b) => Ipaddr.ofRaw(b));
const v6 = fc.uint8Array({ minLength: 16, maxLength: 16 }).map((b) => Ipaddr.ofRaw(b));
const port = fc.integer({ min: 0, max: 65535 });

const v1Header: fc.Arbitrary<ProxyHeader> = fc.oneof(
  fc.constant<ProxyHeader>({
    version: 1,
    command: "PROXY",
    source: null,
    destination: null,
    tlvs: [],
  }),
  fc.oneof(fc.tuple(v4, v4), fc.tuple(v6, v6)).chain(([a, b]) =>
    fc.tuple(port, port).map(
      ([p, q]): ProxyHeader => ({
        version: 1,
        command: "PROXY",
        source: Sockaddr.tcp(a, p),
        destination: Sockaddr.tcp(b, q),
        tlvs: [],
      }),
    ),
  ),
);

/** Unix paths weir can hold: no NUL but a leading one (abstract names), no leading "@". */
const pathChar = fc.integer({ min: 1, max: 255 }).map((c) => String.fromCharCode(c));
const unixPath = fc.oneof(
  fc.string({ unit: pathChar, minLength: 1, maxLength: 108 }).filter((s) => !s.startsWith("@")),
  fc.string({ unit: pathChar, minLength: 1, maxLength: 107 }).map((s) => `\0${s}`),
);

const addresses = fc.oneof(
  fc.constant<[null, null]>([null, null]),
  fc
    .tuple(fc.oneof(fc.tuple(v4, v4), fc.tuple(v6, v6)), port, port, fc.boolean())
    .map(([[a, b], p, q, udp]) =>
      udp ? [Sockaddr.udp(a, p), Sockaddr.udp(b, q)] : [Sockaddr.tcp(a, p), Sockaddr.tcp(b, q)],
    ),
  fc.tuple(unixPath, unixPath).map(([a, b]) => [Sockaddr.unix(a), Sockaddr.unix(b)]),
);

const v2Header: fc.Arbitrary<ProxyHeader> = fc
  .record({
    local: fc.boolean(),
    addrs: addresses,
    alpn: fc.option(fc.string({ maxLength: 20 }), { nil: undefined }),
    authority: fc.option(fc.string({ maxLength: 40 }), { nil: undefined }),
    uniqueId: fc.option(fc.uint8Array({ maxLength: 128 }), { nil: undefined }),
    other: fc.array(
      fc.record({
        type: fc.constantFrom(TLV.NOOP, TLV.NETNS, 0xe0, 0xef),
        value: fc.uint8Array({ maxLength: 30 }),
      }),
      { maxLength: 3 },
    ),
    crc: fc.boolean(),
  })
  .map((r): ProxyHeader => {
    const fields = {
      ...(r.alpn === undefined ? {} : { alpn: r.alpn }),
      ...(r.authority === undefined ? {} : { authority: r.authority }),
      ...(r.uniqueId === undefined ? {} : { uniqueId: r.uniqueId }),
    };
    const tlvs = [...tlvsOf(fields), ...r.other];
    if (r.crc) tlvs.push({ type: TLV.CRC32C, value: new Uint8Array(4) });
    return {
      version: 2,
      command: r.local ? "LOCAL" : "PROXY",
      source: r.local ? null : r.addrs[0],
      destination: r.local ? null : r.addrs[1],
      tlvs,
      ...fields,
    };
  });

const header = fc.oneof(v1Header, v2Header);
const encode = (h: ProxyHeader): Uint8Array => (h.version === 1 ? encodeV1(h) : encodeV2(h));

/** A header in a comparable form (addresses as text; a CRC32C value as computed). */
function show(h: ProxyHeader): unknown {
  return {
    version: h.version,
    command: h.command,
    source: h.source === null ? null : Sockaddr.format(h.source),
    destination: h.destination === null ? null : Sockaddr.format(h.destination),
    tlvs: h.tlvs.map((t) =>
      t.type === TLV.CRC32C ? "crc" : `${t.type}:${Buffer.from(t.value).toString("hex")}`,
    ),
    alpn: h.alpn,
    authority: h.authority,
    uniqueId: h.uniqueId === undefined ? undefined : Buffer.from(h.uniqueId).toString("hex"),
  };
}

/** `bytes` cut at the given (sorted, deduplicated) points. */
function cut(bytes: Uint8Array, points: number[]): Uint8Array[] {
  const at = [...new Set(points.map((p) => p % (bytes.length + 1)))].sort((a, b) => a - b);
  const out: Uint8Array[] = [];
  let from = 0;
  for (const p of [...at, bytes.length]) {
    if (p > from) out.push(bytes.subarray(from, p));
    from = Math.max(from, p);
  }
  return out;
}

async function rest(src: ChunkedSource): Promise<Uint8Array> {
  const chunks: Uint8Array[] = [];
  const buf = new Uint8Array(4096);
  for (;;) {
    try {
      const n = await src.readInto(buf);
      chunks.push(buf.slice(0, n));
    } catch (e) {
      if (e instanceof EndOfFile) return Uint8Array.from(Buffer.concat(chunks));
      throw e;
    }
  }
}

describe("PROXY headers", () => {
  test("round-trip through any chunking, leaving every following byte in the flow", async () => {
    await fc.assert(
      fc.asyncProperty(
        header,
        fc.uint8Array({ maxLength: 64 }),
        fc.array(fc.nat(), { maxLength: 12 }),
        async (h, trailer, points) => {
          const bytes = Uint8Array.from([...encode(h), ...trailer]);
          const src = new ChunkedSource(cut(bytes, points));
          const got = await readProxyHeader(src, { mode: "any" });
          expect(show(got)).toEqual(show(h));
          expect(Buffer.from(await rest(src)).equals(Buffer.from(trailer))).toBe(true);
        },
      ),
      { numRuns: RUNS },
    );
  });

  test("every proper prefix of a header is incomplete, needing no more than the rest of it", () => {
    fc.assert(
      fc.property(header, (h) => {
        const bytes = encode(h);
        for (let k = 0; k < bytes.length; k++) {
          const r = parseProxyHeader(bytes.subarray(0, k), "any");
          if (r.status !== "incomplete")
            throw new Error(`prefix of ${k}/${bytes.length} bytes: ${JSON.stringify(r)}`);
          expect(r.need).toBeGreaterThanOrEqual(1);
          expect(r.need).toBeLessThanOrEqual(bytes.length - k);
        }
      }),
      { numRuns: RUNS },
    );
  });
});

/** Byte strings near headers: encodings with a byte changed, cut short or with bytes inserted, and noise. */
const nearHeader = fc.oneof(
  fc.uint8Array({ maxLength: 120 }),
  fc.tuple(header, fc.nat(), fc.integer({ min: 0, max: 255 })).map(([h, i, b]) => {
    const e = Uint8Array.from(encode(h));
    e[i % e.length] = b;
    return e;
  }),
  fc.tuple(header, fc.nat()).map(([h, i]) => {
    const e = encode(h);
    return e.subarray(0, i % (e.length + 1));
  }),
  fc.tuple(header, fc.nat(), fc.uint8Array({ minLength: 1, maxLength: 4 })).map(([h, i, ins]) => {
    const e = encode(h);
    const at = i % (e.length + 1);
    return Uint8Array.from([...e.subarray(0, at), ...ins, ...e.subarray(at)]);
  }),
);

describe("any byte string", () => {
  test("is a header (whose encoding parses the same) or a typed rejection, in any chunking", async () => {
    await fc.assert(
      fc.asyncProperty(
        nearHeader,
        fc.array(fc.nat(), { maxLength: 10 }),
        fc.constantFrom("v1" as const, "v2" as const, "any" as const),
        async (bytes, points, mode) => {
          const src = new ChunkedSource(cut(bytes, points));
          const r = await readProxyHeader(src, { mode }).then(
            (h) => ({ ok: true as const, h }),
            (e: unknown) => ({ ok: false as const, e }),
          );
          if (r.ok) {
            const again = parseProxyHeader(encode(r.h), mode);
            expect(again.status).toBe("done");
            if (again.status === "done") expect(show(again.header)).toEqual(show(r.h));
          } else {
            expect(r.e).toBeInstanceOf(IoError);
            expect((r.e as IoError).err.kind).toBe("ProxyProtocol");
          }
          // the parser agrees with itself on the whole string: once invalid, invalid for good
          const whole = parseProxyHeader(bytes, mode);
          for (let k = 0; k <= bytes.length; k++) {
            if (parseProxyHeader(bytes.subarray(0, k), mode).status === "invalid") {
              expect(whole.status).toBe("invalid");
              break;
            }
          }
        },
      ),
      { numRuns: RUNS },
    );
  });
});

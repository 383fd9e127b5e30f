/**
 * Property tests of the address layer: Ipaddr text round-trips and matches an independent
 * IPv6 serialiser (the WHATWG URL parser in Node), and Sockaddr.parse inverts Sockaddr.format.
 */
import fc from "fast-check";
import { describe, expect, test } from "vitest";
import { Ipaddr } from "../../src/net/ipaddr.ts";
import { Sockaddr } from "../../src/net/sockaddr.ts";

const RUNS = 1000;

/** 16-bit groups biased towards zero, so that runs of zero groups (and ties) are common. */
const group = fc.oneof(
  { arbitrary: fc.constant(0), weight: 3 },
  { arbitrary: fc.integer({ min: 0, max: 0xffff }), weight: 2 },
);
const v6Bytes = fc.oneof(
  fc.uint8Array({ minLength: 16, maxLength: 16 }),
  fc.array(group, { minLength: 8, maxLength: 8 }).map((gs) => {
    const b = new Uint8Array(16);
    gs.forEach((g, i) => {
      b[2 * i] = g >> 8;
      b[2 * i + 1] = g & 0xff;
    });
    return b;
  }),
  fc
    .uint8Array({ minLength: 4, maxLength: 4 })
    .map((v4) => Uint8Array.of(0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, ...v4)),
);
const rawBytes = fc.oneof(fc.uint8Array({ minLength: 4, maxLength: 4 }), v6Bytes);
const ipaddr = rawBytes.map((b) => Ipaddr.ofRaw(b));

function isMapped(b: Uint8Array): boolean {
  return b.subarray(0, 10).every((x) => x === 0) && b[10] === 0xff && b[11] === 0xff;
}

/** The WHATWG URL host serialiser: an independent implementation of RFC 5952 compression. */
function whatwg(text: string): string {
  return new URL(`http://[${text}]/`).hostname.slice(1, -1);
}

/** A path's length in UTF-8 bytes. */
const utf8 = (s: string): number => new TextEncoder().encode(s).length;

const pathText = fc.string({ unit: "binary", minLength: 1, maxLength: 60 });
const unixPath = fc.oneof(
  pathText.filter((p) => !p.includes("\0") && !p.startsWith("@") && utf8(p) <= 107),
  fc
    .string({ unit: "binary", maxLength: 60 })
    .map((p) => `\0${p}`)
    .filter((p) => p.indexOf("\0", 1) < 0 && utf8(p) <= 107),
);
const port = fc.integer({ min: 0, max: 65535 });
const sockaddr = fc.oneof(
  fc.tuple(ipaddr, port).map(([h, p]) => Sockaddr.tcp(h, p)),
  fc.tuple(ipaddr, port).map(([h, p]) => Sockaddr.udp(h, p)),
  unixPath.map((p) => Sockaddr.unix(p)),
);

/** Strings that often come close to the address grammar, and some that are plain noise. */
const junk = fc.oneof(
  fc.string({ unit: "binary", maxLength: 40 }),
  fc
    .tuple(
      fc.constantFrom("tcp:", "udp:", "unix:", "unix:@", "tcp:[", "udp:[", "", "TCP:"),
      fc.string({
        unit: fc.constantFrom(..."0123456789abcdefABCDEF:.[]@%/ \0-+xg".split("")),
        maxLength: 40,
      }),
    )
    .map(([a, b]) => a + b),
  fc.tuple(sockaddr, fc.nat({ max: 30 }), fc.string({ maxLength: 3 })).map(([a, cut, ins]) => {
    const s = Sockaddr.format(a);
    const i = Math.min(cut, s.length);
    return s.slice(0, i) + ins + s.slice(i + 1);
  }),
);

describe("address properties", () => {
  test("Ipaddr.parse() reads back what toString() prints, for any raw address", () => {
    fc.assert(
      fc.property(rawBytes, (bytes) => {
        const ip = Ipaddr.ofRaw(bytes);
        const back = Ipaddr.parse(ip.toString());
        expect(back.raw).toEqual(bytes);
        expect(back.family).toBe(bytes.length === 4 ? 4 : 6);
        expect(back.toString()).toBe(ip.toString());
      }),
      { numRuns: RUNS },
    );
  });

  test("Ipaddr.toString() of IPv6 matches the WHATWG URL serialiser", () => {
    fc.assert(
      fc.property(
        v6Bytes.filter((b) => !isMapped(b)),
        (bytes) => {
          const text = Ipaddr.ofRaw(bytes).toString();
          expect(text).toBe(whatwg(text));
        },
      ),
      { numRuns: RUNS },
    );
  });

  test("Ipaddr.toString() of IPv4 matches the WHATWG URL serialiser", () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 4, maxLength: 4 }), (bytes) => {
        const text = Ipaddr.ofRaw(bytes).toString();
        expect(text).toBe(new URL(`http://${text}/`).hostname);
      }),
      { numRuns: RUNS },
    );
  });

  test("Sockaddr.parse(Sockaddr.format(a)) equals a", () => {
    fc.assert(
      fc.property(sockaddr, (a) => {
        const text = Sockaddr.format(a);
        const back = Sockaddr.parse(text);
        expect(back).toEqual(a);
        expect(Sockaddr.equals(back, a)).toBe(true);
        expect(Sockaddr.format(back)).toBe(text);
      }),
      { numRuns: RUNS },
    );
  });

  test("Sockaddr.parse() of junk gives a canonical address or throws TypeError", () => {
    fc.assert(
      fc.property(junk, (text) => {
        let a: Sockaddr;
        try {
          a = Sockaddr.parse(text);
        } catch (err) {
          expect(err).toBeInstanceOf(TypeError);
          return;
        }
        const canonical = Sockaddr.format(a);
        const again = Sockaddr.parse(canonical);
        expect(again).toEqual(a);
        expect(Sockaddr.format(again)).toBe(canonical);
      }),
      { numRuns: 2000 },
    );
  });

  test("Ipaddr.parse() accepts exactly the IPv6 text the WHATWG URL parser accepts", () => {
    const v6Text = fc.oneof(
      fc.string({ unit: fc.constantFrom(..."0123456789abcdefABCDEF:.".split("")), maxLength: 45 }),
      fc
        .tuple(
          ipaddr,
          fc.nat({ max: 45 }),
          fc.constantFrom("", ":", "0", ".", "::", "1.2.3.4", "00"),
        )
        .map(([ip, cut, ins]) => {
          const s = ip.toString();
          const i = Math.min(cut, s.length);
          return s.slice(0, i) + ins + s.slice(i + (cut % 2));
        }),
    );
    fc.assert(
      fc.property(
        v6Text.filter((t) => t.includes(":")),
        (text) => {
          let theirs: string | undefined;
          try {
            theirs = whatwg(text);
          } catch {
            theirs = undefined;
          }
          let ours: Ipaddr | undefined;
          try {
            ours = Ipaddr.parse(text);
          } catch (err) {
            expect(err).toBeInstanceOf(TypeError);
          }
          expect(ours !== undefined, `accepted ${JSON.stringify(text)}`).toBe(theirs !== undefined);
          if (ours !== undefined && theirs !== undefined) {
            expect(Ipaddr.parse(theirs).equals(ours)).toBe(true);
          }
        },
      ),
      { numRuns: 2000 },
    );
  });

  test("Ipaddr.parse() of junk gives a canonical address or throws TypeError", () => {
    const ipJunk = fc.oneof(
      fc.string({ unit: fc.constantFrom(..."0123456789abcdefABCDEF:.%".split("")), maxLength: 45 }),
      ipaddr.map((ip) => ip.toString().replace(/:0(?=:|$)/, ":0000")),
      fc.string({ unit: "binary", maxLength: 20 }),
    );
    fc.assert(
      fc.property(ipJunk, (text) => {
        let ip: Ipaddr;
        try {
          ip = Ipaddr.parse(text);
        } catch (err) {
          expect(err).toBeInstanceOf(TypeError);
          return;
        }
        const canonical = ip.toString();
        expect(Ipaddr.parse(canonical).equals(ip)).toBe(true);
        expect(Ipaddr.parse(canonical).toString()).toBe(canonical);
      }),
      { numRuns: 2000 },
    );
  });
});

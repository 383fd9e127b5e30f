import { describe, expect, test } from "vitest";
import { EndOfFile, IoError } from "../../core/index.ts";
import { ChunkedSource } from "../../flow/test-helpers/chunked-source.ts";
import { Sockaddr } from "../sockaddr.ts";
import {
  encodeV1,
  encodeV2,
  type ProxyHeader,
  parseProxyHeader,
  readProxyHeader,
  TLV,
  tlvsOf,
  V2_SIGNATURE,
} from "./index.ts";

const text = (s: string): Uint8Array => Uint8Array.from(s, (c) => c.charCodeAt(0));
const hex = (s: string): Uint8Array => Uint8Array.from(Buffer.from(s.replace(/\s+/g, ""), "hex"));

/** The header, with addresses in their text form, for readable expectations. */
function show(h: ProxyHeader): Record<string, unknown> {
  return {
    ...h,
    source: h.source === null ? null : Sockaddr.format(h.source),
    destination: h.destination === null ? null : Sockaddr.format(h.destination),
    tlvs: h.tlvs.map((t) => `${t.type}:${Buffer.from(t.value).toString("hex")}`),
  };
}

function parsed(bytes: Uint8Array, mode: "v1" | "v2" | "any" = "any") {
  const r = parseProxyHeader(bytes, mode);
  if (r.status !== "done") throw new Error(`not done: ${JSON.stringify(r)}`);
  return { header: show(r.header), length: r.length };
}

describe("parseProxyHeader() v1", () => {
  test("reads TCP4 and TCP6 lines, and UNKNOWN with anything after it", () => {
    expect(parsed(text("PROXY TCP4 192.168.0.1 192.168.0.11 56324 443\r\nGET /"))).toEqual({
      header: {
        version: 1,
        command: "PROXY",
        source: "tcp:192.168.0.1:56324",
        destination: "tcp:192.168.0.11:443",
        tlvs: [],
      },
      length: 47,
    });
    expect(parsed(text("PROXY TCP6 2001:db8::1 ::1 65535 0\r\n")).header).toMatchObject({
      source: "tcp:[2001:db8::1]:65535",
      destination: "tcp:[::1]:0",
    });
    expect(parsed(text("PROXY UNKNOWN\r\n"))).toMatchObject({
      header: { source: null, destination: null },
      length: 15,
    });
    expect(parsed(text("PROXY UNKNOWN ffff::1 ::1 1 2\r\n")).length).toBe(31);
  });

  test("a prefix is incomplete, needing no more than the shortest header that could follow", () => {
    expect(parseProxyHeader(text(""), "v1")).toEqual({ status: "incomplete", need: 15 });
    expect(parseProxyHeader(text("PRO"), "v1")).toEqual({ status: "incomplete", need: 12 });
    // "PROXY TCP4 1.2.3.4 " needs at least "1.1.1.1 1 1\r\n"
    expect(parseProxyHeader(text("PROXY TCP4 1.2.3.4 "), "v1")).toEqual({
      status: "incomplete",
      need: 13,
    });
    expect(parseProxyHeader(text("PROXY TCP4 1.2.3.4 5.6.7.8 1 2\r"), "v1")).toEqual({
      status: "incomplete",
      need: 1,
    });
  });

  test("rejects what is not a header at its first wrong byte, saying why", () => {
    const bad = (s: string) => parseProxyHeader(text(s), "v1");
    expect(bad("GET / HTTP/1.1\r\n")).toEqual({
      status: "invalid",
      fault: "Missing",
      detail: "no PROXY v1 header: the first byte is 0x47",
    });
    expect(bad("PROXX")).toMatchObject({
      fault: "Malformed",
      detail: 'does not start with "PROXY ": "PROXX"',
    });
    expect(bad("PROXY TCP5 ")).toMatchObject({ detail: 'an unknown protocol "TCP5"' });
    expect(bad("PROXY TCP4 1.2.3.400 1.2.3.4 1 2\r\n")).toMatchObject({
      detail: 'a bad source address "1.2.3.400"',
    });
    expect(bad("PROXY TCP4 ::1 ")).toMatchObject({ detail: 'a bad source address "::1"' });
    expect(bad("PROXY TCP6 1.2.3.4 ::1 1 2\r\n")).toMatchObject({
      detail: 'TCP6 with an IPv4 source address "1.2.3.4"',
    });
    expect(bad("PROXY TCP4 1.2.3.4 1.2.3.4 65536 2\r\n")).toMatchObject({
      detail: 'a source port out of range: "65536"',
    });
    expect(bad("PROXY TCP4 1.2.3.4 1.2.3.4 01 2\r\n")).toMatchObject({
      detail: 'a bad source port "01"',
    });
    expect(bad("PROXY TCP4 1.2.3.4 1.2.3.4 1 2 3\r\n")).toMatchObject({
      detail: "5 fields after TCP4, not 4",
    });
    expect(bad("PROXY TCP4 1.2.3.4\n")).toMatchObject({
      detail: "a bare LF before the end of the line",
    });
    expect(bad(`PROXY UNKNOWN ${"x".repeat(100)}`)).toMatchObject({
      fault: "TooLong",
      detail: "no CRLF in the first 107 bytes",
    });
    expect(parseProxyHeader(text("PROXY UNKNOWN\r\n"), "v2")).toMatchObject({ fault: "Missing" });
  });
});

describe("parseProxyHeader() v2", () => {
  test("reads a TCP over IPv4 header with ALPN, authority and unique id", () => {
    const bytes = hex(`
      0d0a0d0a000d0a515549540a 21 11 0021
      7f000002 7f000001 d431 01bb
      01 0002 6832  02 0007 6578616d706c65  05 0003 616263`);
    expect(parsed(bytes, "v2")).toEqual({
      header: {
        version: 2,
        command: "PROXY",
        source: "tcp:127.0.0.2:54321",
        destination: "tcp:127.0.0.1:443",
        tlvs: ["1:6832", "2:6578616d706c65", "5:616263"],
        alpn: "h2",
        authority: "example",
        uniqueId: Uint8Array.of(0x61, 0x62, 0x63),
      },
      length: 49,
    });
  });

  test("LOCAL (a health check): no addresses, whatever the block holds", () => {
    const bytes = hex("0d0a0d0a000d0a515549540a 20 11 000c 7f000002 7f000001 d431 01bb");
    expect(parsed(bytes, "v2").header).toMatchObject({
      command: "LOCAL",
      source: null,
      destination: null,
    });
    expect(parsed(hex("0d0a0d0a000d0a515549540a 20 00 0000"), "any").length).toBe(16);
  });

  test("UDP over IPv6 and Unix stream addresses", () => {
    const v6 = encodeV2({
      version: 2,
      command: "PROXY",
      source: Sockaddr.parse("udp:[2001:db8::2]:53"),
      destination: Sockaddr.parse("udp:[::1]:5353"),
      tlvs: [],
    });
    expect(parsed(v6).header).toMatchObject({
      source: "udp:[2001:db8::2]:53",
      destination: "udp:[::1]:5353",
    });
    const unix = encodeV2({
      version: 2,
      command: "PROXY",
      source: Sockaddr.unix("/run/a.sock"),
      destination: Sockaddr.unix("\0abstract"),
      tlvs: [],
    });
    expect(unix.length).toBe(16 + 216);
    expect(parsed(unix).header).toMatchObject({
      source: "unix:/run/a.sock",
      destination: "unix:@abstract",
    });
  });

  test("a CRC32C field is checked", () => {
    const h: ProxyHeader = {
      version: 2,
      command: "PROXY",
      source: Sockaddr.parse("tcp:10.0.0.1:1"),
      destination: Sockaddr.parse("tcp:10.0.0.2:2"),
      tlvs: [...tlvsOf({ alpn: "http/1.1" }), { type: TLV.CRC32C, value: new Uint8Array(4) }],
    };
    const bytes = encodeV2(h);
    expect(parseProxyHeader(bytes, "v2").status).toBe("done");
    bytes[bytes.length - 1]! ^= 1;
    expect(parseProxyHeader(bytes, "v2")).toMatchObject({
      detail: "its CRC32C checksum does not match",
    });
  });

  test("rejects a bad signature, version, command, family, length or TLV at once", () => {
    const sig = Buffer.from(V2_SIGNATURE).toString("hex");
    const bad = (s: string) => parseProxyHeader(hex(s), "v2");
    expect(bad("0d0a0d0a000d0a51")).toEqual({ status: "incomplete", need: 8 });
    expect(bad("0d0a0d0a000d0a52")).toMatchObject({ fault: "Missing", detail: "no v2 signature" });
    expect(bad(`${sig} 11`)).toMatchObject({ detail: "version 1, not 2" });
    expect(bad(`${sig} 22`)).toMatchObject({ detail: "an unknown command 0x02" });
    expect(bad(`${sig} 21 41`)).toMatchObject({ detail: "an unknown address family 0x04" });
    expect(bad(`${sig} 21 13`)).toMatchObject({ detail: "an unknown transport 0x03" });
    expect(bad(`${sig} 21 11 0008`)).toMatchObject({
      detail: "a length of 8 bytes, too short for the addresses of family 1",
    });
    expect(bad(`${sig} 21 11 ffff`)).toMatchObject({
      fault: "TooLong",
      detail: "a v2 header of 65551 bytes, over the limit of 4096",
    });
    expect(bad(`${sig} 21 11 000e 7f000002 7f000001 d431 01bb 0100`)).toMatchObject({
      detail: "a TLV field cut short at byte 28",
    });
    expect(bad(`${sig} 21 11 0010 7f000002 7f000001 d431 01bb 010005 68`)).toMatchObject({
      detail: "a TLV field (type 0x01) of 5 bytes cut short",
    });
  });
});

describe("encodeV1()", () => {
  test("writes TCP4/TCP6 lines, and UNKNOWN for what v1 cannot say", () => {
    const line = (h: Partial<ProxyHeader>) =>
      Buffer.from(
        encodeV1({ version: 1, command: "PROXY", source: null, destination: null, tlvs: [], ...h }),
      ).toString();
    expect(
      line({
        source: Sockaddr.parse("tcp:1.2.3.4:5"),
        destination: Sockaddr.parse("tcp:5.6.7.8:80"),
      }),
    ).toBe("PROXY TCP4 1.2.3.4 5.6.7.8 5 80\r\n");
    expect(
      line({ source: Sockaddr.parse("tcp:[::1]:5"), destination: Sockaddr.parse("tcp:[::2]:6") }),
    ).toBe("PROXY TCP6 ::1 ::2 5 6\r\n");
    expect(line({ source: Sockaddr.unix("/a"), destination: Sockaddr.unix("/b") })).toBe(
      "PROXY UNKNOWN\r\n",
    );
    expect(line({ command: "LOCAL" })).toBe("PROXY UNKNOWN\r\n");
  });

  test("encodeV2() refuses addresses of two families", () => {
    expect(() =>
      encodeV2({
        version: 2,
        command: "PROXY",
        source: Sockaddr.parse("tcp:1.2.3.4:5"),
        destination: Sockaddr.parse("tcp:[::1]:6"),
        tlvs: [],
      }),
    ).toThrow("source and destination must be of one family, got tcp:1.2.3.4:5 and tcp:[::1]:6");
  });
});

describe("readProxyHeader()", () => {
  test("reads the header in a few reads and leaves every byte after it in the flow", async () => {
    const src = new ChunkedSource([
      "PROXY TCP4 192.168.0.1 192.168.0.11 56324 443\r\nGET / HTTP/1.1\r\n",
    ]);
    const h = await readProxyHeader(src, { mode: "any" });
    expect(Sockaddr.format(h.source!)).toBe("tcp:192.168.0.1:56324");
    expect(src.reads).toBeLessThanOrEqual(8);
    const rest = new Uint8Array(100);
    const n = await src.readInto(rest);
    expect(Buffer.from(rest.subarray(0, n)).toString()).toBe("GET / HTTP/1.1\r\n");
  });

  test("a flow that ends, or that sends something else, is an IoError ProxyProtocol", async () => {
    const e1 = await readProxyHeader(new ChunkedSource(["PROXY TCP4 1.2"]), { mode: "v1" }).catch(
      (e: unknown) => e,
    );
    expect(e1).toBeInstanceOf(IoError);
    expect((e1 as IoError).message).toBe(
      "Net ProxyProtocol Missing: the connection ended after 14 bytes of a header",
    );
    const e2 = await readProxyHeader(new ChunkedSource(["SSH-2.0-OpenSSH\r\n"]), {
      mode: "any",
    }).catch((e: unknown) => e);
    expect((e2 as IoError).message).toBe(
      "Net ProxyProtocol Missing: no PROXY v1 or v2 header: the first byte is 0x53",
    );
    const e3 = await readProxyHeader(new ChunkedSource([]), { mode: "v2" }).catch(
      (e: unknown) => e,
    );
    expect((e3 as IoError).err).toMatchObject({ kind: "ProxyProtocol", reason: "Missing" });
    expect(e3).not.toBeInstanceOf(EndOfFile);
  });
});

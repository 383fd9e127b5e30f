import { describe, expect, test } from "vitest";
import { Ipaddr } from "./ipaddr.ts";

describe("Ipaddr", () => {
  // The seed's "Unix interop" printing cases (Eio tests/network.md)
  test.each([
    ["127.0.0.1", "127.0.0.1"],
    ["0.0.0.0", "0.0.0.0"],
    ["1234:5678:9abc:def0:fedc:ba98:7654:3210", "1234:5678:9abc:def0:fedc:ba98:7654:3210"],
    ["::1", "::1"],
    ["::", "::"],
    ["ab::", "ab::"],
    ["::ffff:192.168.1.3", "::ffff:192.168.1.3"],
    ["1:0:0:2:0:0:0:3", "1:0:0:2::3"],
    ["4:1:0:0:2:0:0:3", "4:1::2:0:0:3"],
  ])("Ipaddr.parse(%j).toString() prints %j as Eio does", (text, printed) => {
    expect(Ipaddr.parse(text).toString()).toBe(printed);
  });

  test.each([
    ["1:0:2:3:4:5:6:7", "1:0:2:3:4:5:6:7"], // a single zero group is not compressed
    ["1:0:0:2:3:0:0:4", "1::2:3:0:0:4"], // the first of two equal runs
    ["1:0:0:2:0:0:0:0", "1:0:0:2::"], // the longer run, at the end
    ["0:0:0:0:0:0:0:1", "::1"],
    ["0:1:2:3:4:5:6:7", "0:1:2:3:4:5:6:7"],
    ["ABCD:EF01:0023:4567:89ab:cdef:0:0", "abcd:ef01:23:4567:89ab:cdef::"],
    ["::0:0:1", "::1"],
    ["1::", "1::"],
    ["::1:2:3:4:5:6:7", "0:1:2:3:4:5:6:7"],
    ["1:2:3:4:5:6:7::", "1:2:3:4:5:6:7:0"],
    ["::FFFF:1.2.3.4", "::ffff:1.2.3.4"],
    ["::ffff:0:0", "::ffff:0.0.0.0"],
    ["0:0:0:0:0:ffff:c0a8:103", "::ffff:192.168.1.3"],
    ["64:ff9b::1.2.3.4", "64:ff9b::102:304"],
    ["1:2:3:4:5:6:1.2.3.4", "1:2:3:4:5:6:102:304"],
    ["::1.2.3.4", "::102:304"],
  ])("Ipaddr.parse(%j).toString() is the RFC 5952 form %j", (text, printed) => {
    expect(Ipaddr.parse(text).toString()).toBe(printed);
  });

  test("Ipaddr.parse() gives the family and the bytes", () => {
    const v4 = Ipaddr.parse("192.168.1.3");
    expect(v4.family).toBe(4);
    expect(v4.raw).toEqual(Uint8Array.of(192, 168, 1, 3));
    const v6 = Ipaddr.parse("::ffff:192.168.1.3");
    expect(v6.family).toBe(6);
    expect(v6.raw).toEqual(Uint8Array.of(0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 255, 255, 192, 168, 1, 3));
  });

  test.each([
    "",
    "1.2.3",
    "1.2.3.4.5",
    "256.0.0.1",
    "01.2.3.4",
    "1.2.3.04",
    "1.2.3.-4",
    "1.2.3.+4",
    "1..3.4",
    "1.2.3.4.",
    " 1.2.3.4",
    "1.2.3.4 ",
    "0x1.2.3.4",
    "localhost",
    ":",
    ":::",
    "1:2",
    "1:2:3:4:5:6:7",
    "1:2:3:4:5:6:7:8:9",
    "1:2:3:4:5:6:7:8::",
    "::1:2:3:4:5:6:7:8",
    "1::2::3",
    ":1::",
    "::1:",
    "1:2:3:4:5:6:7:",
    "12345::",
    "g::",
    "[::1]",
    "::1.2.3",
    "::1.2.3.256",
    "::01.2.3.4",
    "1.2.3.4::",
    "::1.2.3.4:5",
    "1:2:3:4:5:6:7:1.2.3.4",
    "::ffff:1.2.3.4.5",
  ])("Ipaddr.parse(%j) throws TypeError naming the text", (text) => {
    expect(() => Ipaddr.parse(text)).toThrowError(
      new TypeError(`invalid IP address ${JSON.stringify(text)}`),
    );
  });

  test("Ipaddr.parse() rejects a zone id", () => {
    expect(() => Ipaddr.parse("fe80::1%eth0")).toThrowError(
      new TypeError('invalid IP address "fe80::1%eth0" (zone ids are not supported)'),
    );
  });

  test("Ipaddr.parse() rejects a non-string with TypeError", () => {
    expect(() => Ipaddr.parse(42 as unknown as string)).toThrowError(
      new TypeError("text must be a string, got 42"),
    );
  });

  test("Ipaddr.V4 and Ipaddr.V6 hold loopback and any", () => {
    expect(Ipaddr.V4.loopback.toString()).toBe("127.0.0.1");
    expect(Ipaddr.V4.any.toString()).toBe("0.0.0.0");
    expect(Ipaddr.V6.loopback.toString()).toBe("::1");
    expect(Ipaddr.V6.any.toString()).toBe("::");
    expect(Ipaddr.V4.loopback.family).toBe(4);
    expect(Ipaddr.V6.any.family).toBe(6);
    expect(Object.isFrozen(Ipaddr.V4)).toBe(true);
    expect(Object.isFrozen(Ipaddr)).toBe(true);
  });

  test("Ipaddr.ofRaw() reads Eio's raw byte string", () => {
    expect(Ipaddr.ofRaw("\x7f\0\0\x01").toString()).toBe("127.0.0.1");
    expect(Ipaddr.ofRaw("\xff\xff\xff\xff").toString()).toBe("255.255.255.255");
    expect(Ipaddr.ofRaw(`${"\0".repeat(15)}\x01`).equals(Ipaddr.V6.loopback)).toBe(true);
  });

  test("Ipaddr.ofRaw() reads 4 or 16 bytes and copies them", () => {
    const bytes = Uint8Array.of(10, 0, 0, 1);
    const ip = Ipaddr.ofRaw(bytes);
    bytes[0] = 11;
    expect(ip.toString()).toBe("10.0.0.1");
    const v6 = Ipaddr.ofRaw(Buffer.from("20010db8000000000000000000000001", "hex"));
    expect(v6.toString()).toBe("2001:db8::1");
  });

  test.each([0, 3, 5, 15, 17])("Ipaddr.ofRaw() rejects %i bytes with RangeError", (n) => {
    expect(() => Ipaddr.ofRaw(new Uint8Array(n))).toThrowError(
      new RangeError(`bytes must be 4 or 16 bytes long, got ${n}`),
    );
    expect(() => Ipaddr.ofRaw("\0".repeat(n))).toThrowError(
      new RangeError(`bytes must be 4 or 16 bytes long, got ${n}`),
    );
  });

  test("Ipaddr.ofRaw() rejects a character above \\xff with RangeError", () => {
    expect(() => Ipaddr.ofRaw("\x7f\0\u0100\x01")).toThrowError(
      new RangeError("bytes must hold only characters \\x00..\\xff, got \\u0100 at index 2"),
    );
  });

  test("Ipaddr.ofRaw() rejects a non-byte argument with TypeError", () => {
    expect(() => Ipaddr.ofRaw([127, 0, 0, 1] as unknown as Uint8Array)).toThrowError(
      new TypeError("bytes must be a Uint8Array or a string, got an array"),
    );
    expect(() => Ipaddr.ofRaw(null as unknown as Uint8Array)).toThrowError(
      new TypeError("bytes must be a Uint8Array or a string, got null"),
    );
  });

  test("Ipaddr raw is a copy: changing it does not change the address", () => {
    const ip = Ipaddr.parse("1.2.3.4");
    ip.raw[0] = 9;
    expect(ip.raw).toEqual(Uint8Array.of(1, 2, 3, 4));
    expect(ip.toString()).toBe("1.2.3.4");
    expect(Object.isFrozen(ip)).toBe(true);
  });

  test("Ipaddr.equals() compares family and bytes", () => {
    expect(Ipaddr.parse("::1").equals(Ipaddr.V6.loopback)).toBe(true);
    expect(Ipaddr.parse("0:0::0001").equals(Ipaddr.parse("::1"))).toBe(true);
    expect(Ipaddr.parse("::1").equals(Ipaddr.V4.loopback)).toBe(false);
    expect(Ipaddr.parse("1.2.3.4").equals(Ipaddr.parse("::ffff:1.2.3.4"))).toBe(false);
    expect(Ipaddr.parse("1.2.3.4").equals(Ipaddr.parse("1.2.3.5"))).toBe(false);
  });

  test("Ipaddr values compare structurally in toEqual", () => {
    expect(Ipaddr.parse("1.2.3.4")).toEqual(Ipaddr.ofRaw("\x01\x02\x03\x04"));
    expect(Ipaddr.parse("1.2.3.4")).not.toEqual(Ipaddr.parse("1.2.3.5"));
  });

  test("Ipaddr.isLoopback() and isAny() recognise the special addresses", () => {
    expect(Ipaddr.V4.loopback.isLoopback()).toBe(true);
    expect(Ipaddr.parse("127.255.0.9").isLoopback()).toBe(true);
    expect(Ipaddr.V6.loopback.isLoopback()).toBe(true);
    expect(Ipaddr.parse("::ffff:127.0.0.1").isLoopback()).toBe(true);
    expect(Ipaddr.parse("128.0.0.1").isLoopback()).toBe(false);
    expect(Ipaddr.parse("::2").isLoopback()).toBe(false);
    expect(Ipaddr.parse("1::1").isLoopback()).toBe(false);
    expect(Ipaddr.V6.any.isLoopback()).toBe(false);
    expect(Ipaddr.V4.any.isAny()).toBe(true);
    expect(Ipaddr.V6.any.isAny()).toBe(true);
    expect(Ipaddr.V4.loopback.isAny()).toBe(false);
    expect(Ipaddr.parse("::ffff:0.0.0.0").isAny()).toBe(false);
  });

  test("Ipaddr.isIpaddr() accepts only real Ipaddr values", () => {
    expect(Ipaddr.isIpaddr(Ipaddr.V4.any)).toBe(true);
    expect(Ipaddr.isIpaddr(Ipaddr.parse("::"))).toBe(true);
    expect(Ipaddr.isIpaddr("::")).toBe(false);
    expect(Ipaddr.isIpaddr(null)).toBe(false);
    expect(Ipaddr.isIpaddr({ family: 4, raw: new Uint8Array(4) })).toBe(false);
  });
});

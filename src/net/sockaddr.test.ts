import { describe, expect, test } from "vitest";
import { Ipaddr } from "./ipaddr.ts";
import { Sockaddr, type Sockaddr as SockaddrT } from "./sockaddr.ts";

const SYNTAX = "(expected tcp:HOST:PORT, udp:HOST:PORT or unix:PATH)";

describe("Sockaddr", () => {
  // The seed's "Printing addresses with ports" cases
  test("Sockaddr.format() prints tcp addresses as Eio does", () => {
    expect(Sockaddr.format(Sockaddr.tcp(Ipaddr.parse("127.0.0.1"), 8080))).toBe(
      "tcp:127.0.0.1:8080",
    );
    expect(Sockaddr.format(Sockaddr.tcp(Ipaddr.parse("::1"), 8080))).toBe("tcp:[::1]:8080");
  });

  test.each([
    ["udp:127.0.0.1:8082"],
    ["udp:[::1]:53"],
    ["tcp:0.0.0.0:0"],
    ["tcp:[::]:65535"],
    ["tcp:[::ffff:192.168.1.3]:80"],
    ["unix:/tmp/x.sock"],
    ["unix:eio-test.sock"],
    ["unix:idontexist.sock"],
    ["unix:@name"],
    ["unix:@/tmp/eio-test.sock"],
    ["unix:@"],
    ["unix:/a:b [c]@d"],
  ])("Sockaddr.parse(%j) formats back to the same text", (text) => {
    expect(Sockaddr.format(Sockaddr.parse(text))).toBe(text);
  });

  test("Sockaddr.parse() reads the parts", () => {
    const a = Sockaddr.parse("tcp:[::1]:8080");
    expect(a).toEqual({ type: "tcp", host: Ipaddr.V6.loopback, port: 8080 });
    expect(Object.isFrozen(a)).toBe(true);
    expect(Sockaddr.parse("udp:10.0.0.1:53")).toEqual(Sockaddr.udp("10.0.0.1", 53));
    expect(Sockaddr.parse("unix:/run/x.sock")).toEqual({ type: "unix", path: "/run/x.sock" });
  });

  test("Sockaddr.parse() reads unix:@name as an abstract name", () => {
    expect(Sockaddr.parse("unix:@/tmp/eio-test.sock")).toEqual({
      type: "unix",
      path: "\0/tmp/eio-test.sock",
    });
  });

  test("Sockaddr.format() prints an abstract name with @", () => {
    expect(Sockaddr.format(Sockaddr.unix("\0/tmp/eio-test.sock"))).toBe("unix:@/tmp/eio-test.sock");
    expect(Sockaddr.format(Sockaddr.unix("\0"))).toBe("unix:@");
  });

  test.each([
    "",
    "tcp",
    "tcp:",
    "tcp:1.2.3.4",
    "tcp:1.2.3.4:",
    "tcp:1.2.3.4:-1",
    "tcp:1.2.3.4:+1",
    "tcp:1.2.3.4:080",
    "tcp:1.2.3.4:8080 ",
    "tcp:1.2.3.4:0x10",
    "tcp:1.2.3.4:123456",
    "tcp:::1:8080",
    "tcp:[::1]",
    "tcp:[::1:8080",
    "tcp:::1]:8080",
    "tcp:[1.2.3.4]:80",
    "TCP:1.2.3.4:80",
    "sctp:1.2.3.4:80",
    "unix",
    "1.2.3.4:80",
  ])("Sockaddr.parse(%j) throws TypeError naming the text and the syntax", (text) => {
    expect(() => Sockaddr.parse(text)).toThrowError(
      new TypeError(`invalid socket address ${JSON.stringify(text)} ${SYNTAX}`),
    );
  });

  test("Sockaddr.parse() explains a bad host", () => {
    expect(() => Sockaddr.parse("tcp:localhost:80")).toThrowError(
      new TypeError('invalid socket address "tcp:localhost:80" (invalid IP address "localhost")'),
    );
    expect(() => Sockaddr.parse("tcp:1.2.3:80")).toThrowError(
      new TypeError('invalid socket address "tcp:1.2.3:80" (invalid IP address "1.2.3")'),
    );
    expect(() => Sockaddr.parse("udp:[fe80::1%eth0]:80")).toThrowError(
      new TypeError(
        'invalid socket address "udp:[fe80::1%eth0]:80" (invalid IP address "fe80::1%eth0" (zone ids are not supported))',
      ),
    );
  });

  test("Sockaddr.parse() rejects a port above 65535 with TypeError", () => {
    expect(() => Sockaddr.parse("tcp:1.2.3.4:70000")).toThrowError(
      new TypeError(
        'invalid socket address "tcp:1.2.3.4:70000" (port must be an integer in 0..65535, got 70000)',
      ),
    );
  });

  test("Sockaddr.parse() rejects bad unix paths with TypeError", () => {
    expect(Sockaddr.parse("unix:")).toEqual({ type: "unix", path: "" });
    expect(() => Sockaddr.parse(`unix:/${"a".repeat(107)}`)).toThrowError(
      new TypeError(
        `invalid socket address "unix:/${"a".repeat(107)}" (unix path must be at most 107 bytes, got 108 bytes: "/${"a".repeat(107)}")`,
      ),
    );
    expect(() => Sockaddr.parse("unix:a\0b")).toThrowError(TypeError);
  });

  test("Sockaddr.parse() rejects a non-string with TypeError", () => {
    expect(() => Sockaddr.parse(undefined as unknown as string)).toThrowError(
      new TypeError("text must be a string, got undefined"),
    );
  });

  test("Sockaddr.tcp() and udp() take an Ipaddr or a string host", () => {
    expect(Sockaddr.tcp("127.0.0.1", 80)).toEqual(Sockaddr.tcp(Ipaddr.V4.loopback, 80));
    expect(Sockaddr.udp("::1", 53)).toEqual({ type: "udp", host: Ipaddr.V6.loopback, port: 53 });
    expect(Object.isFrozen(Sockaddr.udp("::1", 53))).toBe(true);
    expect(Sockaddr.tcp("::", 0).port).toBe(0);
    expect(Sockaddr.tcp("::", 65535).port).toBe(65535);
  });

  test.each([
    [70000, "70000"],
    [-1, "-1"],
    [1.5, "1.5"],
    [Number.NaN, "NaN"],
    [Number.POSITIVE_INFINITY, "Infinity"],
  ])("Sockaddr.tcp() rejects port %s with RangeError", (port, shown) => {
    expect(() => Sockaddr.tcp(Ipaddr.V4.loopback, port)).toThrowError(
      new RangeError(`port must be an integer in 0..65535, got ${shown}`),
    );
    expect(() => Sockaddr.udp(Ipaddr.V4.loopback, port)).toThrowError(
      new RangeError(`port must be an integer in 0..65535, got ${shown}`),
    );
  });

  test("Sockaddr.tcp() rejects a non-number port with TypeError", () => {
    expect(() => Sockaddr.tcp(Ipaddr.V4.loopback, "80" as unknown as number)).toThrowError(
      new TypeError('port must be a number, got "80"'),
    );
  });

  test("Sockaddr.tcp() rejects a bad host with TypeError", () => {
    expect(() => Sockaddr.tcp("1.2.3", 80)).toThrowError(
      new TypeError('invalid IP address "1.2.3"'),
    );
    expect(() => Sockaddr.udp(42 as unknown as string, 80)).toThrowError(
      new TypeError("host must be an Ipaddr or an IP address string, got 42"),
    );
  });

  test("Sockaddr.unix() accepts relative, absolute and abstract paths up to 107 bytes", () => {
    expect(Sockaddr.unix("eio-test.sock")).toEqual({ type: "unix", path: "eio-test.sock" });
    expect(Sockaddr.unix(`/${"a".repeat(106)}`).path).toHaveLength(107);
    expect(Sockaddr.unix(`\0${"a".repeat(106)}`).path).toHaveLength(107);
    expect(Sockaddr.unix("./@x").path).toBe("./@x");
    expect(Object.isFrozen(Sockaddr.unix("/x"))).toBe(true);
  });

  test("Sockaddr.unix() rejects a path over 107 bytes with RangeError naming the path", () => {
    const long = `/${"a".repeat(107)}`;
    expect(() => Sockaddr.unix(long)).toThrowError(
      new RangeError(`path must be at most 107 bytes, got 108 bytes: "${long}"`),
    );
    const abstract = `\0${"a".repeat(107)}`;
    expect(() => Sockaddr.unix(abstract)).toThrowError(
      new RangeError(`path must be at most 107 bytes, got 108 bytes: "\\u0000${"a".repeat(107)}"`),
    );
  });

  test("Sockaddr.unix() counts the path length in UTF-8 bytes", () => {
    const path = `/${"é".repeat(53)}`; // 1 + 106 bytes
    expect(Sockaddr.unix(path).path).toBe(path);
    const over = `/${"é".repeat(53)}x`;
    expect(() => Sockaddr.unix(over)).toThrowError(
      new RangeError(`path must be at most 107 bytes, got 108 bytes: "${over}"`),
    );
    const emoji = `/${"😀".repeat(26)}xx`; // 1 + 104 + 2 bytes
    expect(Sockaddr.unix(emoji).path).toBe(emoji);
    expect(() => Sockaddr.unix(`${emoji}x`)).toThrowError(RangeError);
  });

  test("Sockaddr.unix() accepts an empty path: an unnamed socket, formatted unix:", () => {
    expect(Sockaddr.format(Sockaddr.unix(""))).toBe("unix:");
  });

  test("Sockaddr.unix() rejects a NUL other than a leading one", () => {
    expect(() => Sockaddr.unix("/tmp/a\0b")).toThrowError(
      new TypeError(
        'path must not contain NUL except as its first character, got "/tmp/a\\u0000b"',
      ),
    );
    expect(() => Sockaddr.unix("\0a\0")).toThrowError(TypeError);
  });

  test("Sockaddr.unix() rejects a file path starting with @", () => {
    expect(() => Sockaddr.unix("@x")).toThrowError(
      new TypeError(
        'path must not start with "@" (write "./@..." for a file, "\\0..." for an abstract name), got "@x"',
      ),
    );
  });

  test("Sockaddr.unix() rejects a non-string path with TypeError", () => {
    expect(() => Sockaddr.unix(7 as unknown as string)).toThrowError(
      new TypeError("path must be a string, got 7"),
    );
  });

  test("Sockaddr.of() parses a string and checks an object", () => {
    expect(Sockaddr.of("tcp:127.0.0.1:8080")).toEqual(Sockaddr.tcp("127.0.0.1", 8080));
    const built = { type: "udp", host: Ipaddr.V6.any, port: 9 } as const;
    const a = Sockaddr.of(built);
    expect(a).toEqual(built);
    expect(Object.isFrozen(a)).toBe(true);
    expect(Sockaddr.of({ type: "unix", path: "\0x" })).toEqual(Sockaddr.unix("\0x"));
  });

  test("Sockaddr.of() drops unknown fields of a hand-built object", () => {
    const built = { type: "tcp", host: Ipaddr.V4.any, port: 1, extra: true } as SockaddrT;
    expect(Object.keys(Sockaddr.of(built))).toEqual(["type", "host", "port"]);
  });

  test("Sockaddr.of() rejects a hand-built object with a bad port", () => {
    expect(() => Sockaddr.of({ type: "tcp", host: Ipaddr.V4.any, port: 70000 })).toThrowError(
      new RangeError("addr.port must be an integer in 0..65535, got 70000"),
    );
    expect(() =>
      Sockaddr.of({ type: "udp", host: Ipaddr.V4.any } as unknown as SockaddrT),
    ).toThrowError(new TypeError("addr.port must be a number, got undefined"));
  });

  test("Sockaddr.of() rejects a hand-built object with a bad host, path or type", () => {
    expect(() =>
      Sockaddr.of({ type: "tcp", host: "1.2.3.4", port: 80 } as unknown as SockaddrT),
    ).toThrowError(new TypeError('addr.host must be an Ipaddr, got "1.2.3.4"'));
    expect(() => Sockaddr.of({ type: "sctp" } as unknown as SockaddrT)).toThrowError(
      new TypeError('addr.type must be "tcp", "udp" or "unix", got "sctp"'),
    );
    expect(() => Sockaddr.of(null as unknown as SockaddrT)).toThrowError(
      new TypeError("addr must be a Sockaddr or its text form, got null"),
    );
  });

  test("Sockaddr.of() rejects bad text with TypeError", () => {
    expect(() => Sockaddr.of("tcp:1.2.3.4")).toThrowError(
      new TypeError(`invalid socket address "tcp:1.2.3.4" ${SYNTAX}`),
    );
  });

  test("Sockaddr.stream() accepts tcp and unix and rejects udp naming the address", () => {
    expect(Sockaddr.stream("tcp:127.0.0.1:80").type).toBe("tcp");
    expect(Sockaddr.stream(Sockaddr.unix("/x")).type).toBe("unix");
    expect(() => Sockaddr.stream("udp:127.0.0.1:53")).toThrowError(
      new TypeError('addr must be a stream address (tcp: or unix:), got "udp:127.0.0.1:53"'),
    );
  });

  test("Sockaddr.datagram() accepts udp and unix and rejects tcp naming the address", () => {
    expect(Sockaddr.datagram("udp:[::1]:53").type).toBe("udp");
    expect(Sockaddr.datagram("unix:@d").type).toBe("unix");
    expect(() => Sockaddr.datagram(Sockaddr.tcp("::1", 80))).toThrowError(
      new TypeError('addr must be a datagram address (udp: or unix:), got "tcp:[::1]:80"'),
    );
  });

  test("Sockaddr.equals() compares type, host and port, or path", () => {
    expect(Sockaddr.equals(Sockaddr.tcp("::1", 80), Sockaddr.parse("tcp:[::1]:80"))).toBe(true);
    expect(Sockaddr.equals(Sockaddr.tcp("::1", 80), Sockaddr.udp("::1", 80))).toBe(false);
    expect(Sockaddr.equals(Sockaddr.tcp("::1", 80), Sockaddr.tcp("::1", 81))).toBe(false);
    expect(Sockaddr.equals(Sockaddr.tcp("::1", 80), Sockaddr.tcp("::2", 80))).toBe(false);
    expect(Sockaddr.equals(Sockaddr.unix("/a"), Sockaddr.unix("/a"))).toBe(true);
    expect(Sockaddr.equals(Sockaddr.unix("/a"), Sockaddr.unix("\0a"))).toBe(false);
    expect(Sockaddr.equals(Sockaddr.unix("/a"), Sockaddr.tcp("::1", 80))).toBe(false);
    expect(Sockaddr.equals(Sockaddr.tcp("::1", 80), Sockaddr.unix("/a"))).toBe(false);
  });

  test("Sockaddr.isInet() is true for tcp and udp only", () => {
    expect(Sockaddr.isInet(Sockaddr.parse("tcp:1.2.3.4:1"))).toBe(true);
    expect(Sockaddr.isInet(Sockaddr.parse("udp:1.2.3.4:1"))).toBe(true);
    expect(Sockaddr.isInet(Sockaddr.parse("unix:/x"))).toBe(false);
  });
});

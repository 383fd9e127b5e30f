import { describe, expect, test } from "vitest";
import { Sockaddr } from "../net/index.ts";
import {
  durationOption,
  type Endpoint,
  formatEndpoint,
  intOption,
  modeOption,
  parseCommand,
  parseEndpoint,
  sizeOption,
  UsageError,
} from "./args.ts";

function text(ep: Endpoint): string {
  return ep.kind === "addr" ? Sockaddr.format(ep.addr) : `name ${ep.host} ${ep.service}`;
}

describe("parseEndpoint()", () => {
  test.each([
    ["tcp:127.0.0.1:7000", "tcp:127.0.0.1:7000"],
    ["tcp:[::1]:7000", "tcp:[::1]:7000"],
    ["127.0.0.1:7000", "tcp:127.0.0.1:7000"],
    ["[::1]:80", "tcp:[::1]:80"],
    ["7000", "tcp:127.0.0.1:7000"],
    ["localhost:7000", "name localhost 7000"],
    ["tcp:localhost:7000", "name localhost 7000"],
    ["localhost:http", "name localhost http"],
    ["127.0.0.1:http", "name 127.0.0.1 http"],
    ["unix:/tmp/a.sock", "unix:/tmp/a.sock"],
    ["unix:@abstract", "unix:@abstract"],
    ["/tmp/b.sock", "unix:/tmp/b.sock"],
    ["./c.sock", "unix:./c.sock"],
  ])("reads %s", (input, expected) => {
    expect(text(parseEndpoint("ADDR", input, "connect"))).toBe(expected);
  });

  test("port 0 is for listening only", () => {
    expect(text(parseEndpoint("ADDR", "tcp:127.0.0.1:0", "listen"))).toBe("tcp:127.0.0.1:0");
    expect(() => parseEndpoint("--to", "127.0.0.1:0", "connect")).toThrow(
      new UsageError('--to: invalid address "127.0.0.1:0" (cannot connect to port 0)'),
    );
  });

  test.each([
    ["localhost", /expected tcp:HOST:PORT/],
    ["::1:80", /expected tcp:HOST:PORT/],
    ["[127.0.0.1]:80", /brackets are for IPv6/],
    ["127.0.0.1:65536", /port must be in 0\.\.65535, got 65536/],
    ["udp:127.0.0.1:53", /stream sockets/],
    ["unix:", /empty Unix path/],
    ["bad host!:80", /bad host "bad host!"/],
    ["localhost:8 0", /bad port or service "8 0"/],
  ])("refuses %j naming it", (input, why) => {
    let err: unknown;
    try {
      parseEndpoint("ADDR", input, "connect");
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(UsageError);
    expect((err as Error).message).toContain(`ADDR: invalid address ${JSON.stringify(input)}`);
    expect((err as Error).message).toMatch(why);
  });

  test("formatEndpoint() writes names quoted, as Eio's context lines do", () => {
    expect(formatEndpoint(parseEndpoint("A", "localhost:80", "connect"))).toBe('"localhost":80');
    expect(formatEndpoint(parseEndpoint("A", "80", "connect"))).toBe("tcp:127.0.0.1:80");
  });
});

describe("option readers", () => {
  test("intOption() takes decimal integers within bounds", () => {
    expect(intOption("n", undefined, 5, { min: 1, max: 9 })).toBe(5);
    expect(intOption("n", "9", 5, { min: 1, max: 9 })).toBe(9);
    for (const bad of ["10", "0", "1.5", "0x3", "", "-1"]) {
      expect(() => intOption("n", bad, 5, { min: 1, max: 9 })).toThrow(
        new UsageError(`--n must be an integer in 1..9, got ${JSON.stringify(bad)}`),
      );
    }
  });

  test("durationOption() reads bare numbers in the command's unit, or with ms/s/m", () => {
    const secs = { bareUnit: "s", maxMs: 3_600_000 } as const;
    expect(durationOption("d", "2", 0, secs)).toBe(2000);
    expect(durationOption("d", "0.25", 0, secs)).toBe(250);
    expect(durationOption("d", "300ms", 0, secs)).toBe(300);
    expect(durationOption("d", "1m", 0, secs)).toBe(60_000);
    expect(durationOption("d", "500", 0, { bareUnit: "ms", maxMs: 1000 })).toBe(500);
    expect(() => durationOption("d", "2h", 0, secs)).toThrow(/--d must be a duration .* got "2h"/);
    expect(() => durationOption("d", "4000", 0, secs)).toThrow(/got "4000"/);
  });

  test("sizeOption() reads k and m as binary multiples", () => {
    const b = { min: 1, max: 1 << 30 };
    expect(sizeOption("s", "64", 0, b)).toBe(64);
    expect(sizeOption("s", "16k", 0, b)).toBe(16384);
    expect(sizeOption("s", "1MiB", 0, b)).toBe(1 << 20);
    expect(() => sizeOption("s", "0", 0, b)).toThrow(/--s must be a size in 1\.\.1073741824 bytes/);
    expect(() => sizeOption("s", "1.5k", 0, b)).toThrow(/got "1.5k"/);
  });

  test("parseCommand() turns parseArgs errors into UsageErrors and counts positionals", () => {
    const opts = { json: { type: "boolean" }, n: { type: "string" } } as const;
    expect(parseCommand(["--json", "x"], opts, [0, 1]).positionals).toEqual(["x"]);
    expect(parseCommand(["--no-json"], opts, [0, 1]).values.json).toBe(false);
    expect(() => parseCommand(["--nope"], opts, [0, 1])).toThrow(
      new UsageError("unknown option '--nope'"),
    );
    expect(() => parseCommand(["a", "b"], opts, [0, 1])).toThrow(
      new UsageError('unexpected argument "b"'),
    );
    expect(() => parseCommand([], opts, [1, 1])).toThrow(
      new UsageError("missing argument (expected 1, got 0)"),
    );
  });
});

describe("modeOption()", () => {
  const unix = parseEndpoint("ADDR", "unix:/tmp/s.sock", "listen");
  test("reads octal modes for a Unix path", () => {
    expect([modeOption("660", unix), modeOption("0600", unix), modeOption("0o777", unix)]).toEqual([
      0o660, 0o600, 0o777,
    ]);
    expect(modeOption(undefined, unix)).toBeUndefined();
  });

  test("rejects a bad mode, and a mode for anything but a Unix path", () => {
    expect(() => modeOption("999", unix)).toThrow(
      new UsageError('--mode must be an octal mode in 0..777 (e.g. 660), got "999"'),
    );
    expect(() => modeOption("rw-r--r--", unix)).toThrow(UsageError);
    expect(() => modeOption("660", parseEndpoint("ADDR", "7000", "listen"))).toThrow(
      new UsageError("--mode is for a Unix socket path, got tcp:127.0.0.1:7000"),
    );
  });
});

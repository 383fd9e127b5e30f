import { describe, expect, test } from "vitest";
import { Ipaddr } from "../net/ipaddr.ts";
import { Sockaddr, type UnixAddr } from "../net/sockaddr.ts";
import { WhereToConnect } from "./where-to-connect.ts";
import { WhereToListen } from "./where-to-listen.ts";

describe("WhereToConnect", () => {
  test("hostAndPort() keeps the name (resolved at connect time) and the local interface", () => {
    const w = WhereToConnect.hostAndPort("example.com", 80, { viaLocalInterface: "10.0.0.1" });
    expect(w).toMatchObject({ kind: "hostAndPort", host: "example.com", port: 80 });
    expect(w.kind === "hostAndPort" && w.viaLocalInterface?.toString()).toBe("10.0.0.1");
    expect(WhereToConnect.format(w)).toBe('"example.com":80');
    expect(Object.isFrozen(w)).toBe(true);
  });

  test("inetAddress(), file() and unixAddress() take addresses or their text", () => {
    const inet = WhereToConnect.inetAddress(Sockaddr.tcp(Ipaddr.V6.loopback, 8080), {
      viaLocalInterface: Ipaddr.V6.loopback,
    });
    expect(WhereToConnect.format(inet)).toBe("tcp:[::1]:8080");
    expect(WhereToConnect.format(WhereToConnect.file("/run/x.sock"))).toBe("unix:/run/x.sock");
    expect(WhereToConnect.format(WhereToConnect.unixAddress("unix:@abstract"))).toBe(
      "unix:@abstract",
    );
  });

  test("check() names what is wrong", () => {
    expect(() => WhereToConnect.check("tcp:1.2.3.4:5")).toThrow(
      'where must be a Tcp.WhereToConnect (made by Tcp.WhereToConnect.hostAndPort, ...), got "tcp:1.2.3.4:5"',
    );
    expect(() => WhereToConnect.hostAndPort("h", 1.5)).toThrow(
      "port must be an integer in 0..65535, got 1.5",
    );
    expect(() => WhereToConnect.hostAndPort("h", "80" as unknown as number)).toThrow(
      'port must be a number, got "80"',
    );
    expect(() =>
      WhereToConnect.hostAndPort("h", 1, { viaLocalInterface: 5 as unknown as string }),
    ).toThrow("viaLocalInterface must be an Ipaddr or its text, got 5");
  });
});

describe("WhereToListen", () => {
  test("onPort() listens on every IPv4 address by default; listeningOn is the port", () => {
    const w = WhereToListen.onPort(8080);
    expect(Sockaddr.format(w.address)).toBe("tcp:0.0.0.0:8080");
    expect(w.listeningOn(Sockaddr.tcp("0.0.0.0", 8080))).toBe(8080);
    expect(Sockaddr.format(WhereToListen.onPort(1, { host: "::1" }).address)).toBe("tcp:[::1]:1");
  });

  test("onPortChosenByOs() is port 0", () => {
    const w = WhereToListen.onPortChosenByOs({ host: Ipaddr.V4.loopback });
    expect(Sockaddr.format(w.address)).toBe("tcp:127.0.0.1:0");
    expect(w.listeningOn(Sockaddr.tcp("127.0.0.1", 40222))).toBe(40222);
  });

  test("onFile(): listeningOn is the path", () => {
    const w = WhereToListen.onFile("/tmp/a.sock");
    expect(w.address).toEqual({ type: "unix", path: "/tmp/a.sock" });
    expect(w.listeningOn(w.address)).toBe("/tmp/a.sock");
  });

  test("create() takes any stream address and listeningOn function", () => {
    const w = WhereToListen.create({
      address: "unix:/tmp/b.sock",
      listeningOn: (a: UnixAddr) => `at ${a.path}`,
    });
    expect(w.listeningOn(w.address)).toBe("at /tmp/b.sock");
    expect(() =>
      WhereToListen.create({ address: "tcp:127.0.0.1:0", listeningOn: 1 as never }),
    ).toThrow("listeningOn must be a function, got number");
  });
});

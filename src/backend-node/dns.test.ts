import { readFileSync } from "node:fs";
import { describe, expect, test } from "vitest";
import { Cancel, Cancelled, isIoError } from "../core/index.ts";
import { Ipaddr } from "../net/ipaddr.ts";
import { Sockaddr } from "../net/sockaddr.ts";
import { getaddrinfo, getnameinfo, makeResolver } from "./dns.ts";

const fmt = (xs: readonly Sockaddr[]): string[] => xs.map((a) => Sockaddr.format(a));

/** A services database as older systems ship it (http and ftp listed for both protocols). */
const SERVICES = [
  "# comment line",
  "ftp\t\t21/tcp",
  "ftp\t\t21/udp\t\tfsp fspd",
  "http\t\t80/tcp\t\twww\t\t# WorldWideWeb HTTP",
  "http\t\t80/udp",
  "domain\t\t53/tcp",
  "domain\t\t53/udp",
  "tcponly\t\t4000/tcp",
  "",
].join("\n");

function enotfound(host: string): Error {
  return Object.assign(new Error(`getaddrinfo ENOTFOUND ${host}`), {
    code: "ENOTFOUND",
    syscall: "getaddrinfo",
    hostname: host,
  });
}

describe("getaddrinfo()", () => {
  test("an IP literal with no service gives port 0 (Eio: [tcp:127.0.0.1:0])", async () => {
    expect(fmt(await getaddrinfo("127.0.0.1", "0"))).toEqual([
      "tcp:127.0.0.1:0",
      "udp:127.0.0.1:0",
    ]);
    expect(fmt(await getaddrinfo("127.0.0.1", ""))).toEqual(["tcp:127.0.0.1:0", "udp:127.0.0.1:0"]);
  });

  test('a numeric service is a port for both protocols ("80")', async () => {
    expect(fmt(await getaddrinfo("127.0.0.1", "80"))).toEqual([
      "tcp:127.0.0.1:80",
      "udp:127.0.0.1:80",
    ]);
    expect(fmt(await getaddrinfo("::1", "8080"))).toEqual(["tcp:[::1]:8080", "udp:[::1]:8080"]);
  });

  test('named services: "http" and "ftp" give a tcp then a udp entry where both are listed', async () => {
    const r = makeResolver({ readServices: async () => SERVICES });
    expect(fmt(await r.getaddrinfo("127.0.0.1", "http"))).toEqual([
      "tcp:127.0.0.1:80",
      "udp:127.0.0.1:80",
    ]);
    expect(fmt(await r.getaddrinfo("127.0.0.1", "ftp"))).toEqual([
      "tcp:127.0.0.1:21",
      "udp:127.0.0.1:21",
    ]);
    // an alias counts only for the lines that list it
    expect(fmt(await r.getaddrinfo("127.0.0.1", "www"))).toEqual(["tcp:127.0.0.1:80"]);
    expect(fmt(await r.getaddrinfo("127.0.0.1", "fsp"))).toEqual(["udp:127.0.0.1:21"]);
    expect(fmt(await r.getaddrinfo("127.0.0.1", "tcponly"))).toEqual(["tcp:127.0.0.1:4000"]);
  });

  test('"http" against this system\'s /etc/services gives the protocols it lists', async () => {
    const etc = readFileSync("/etc/services", "utf8");
    const expected = ["tcp:127.0.0.1:80"];
    if (/^http\s+80\/udp/m.test(etc)) expected.push("udp:127.0.0.1:80");
    expect(fmt(await getaddrinfo("127.0.0.1", "http"))).toEqual(expected);
  });

  test('"localhost" is looked up: each address gives a tcp then a udp entry', async () => {
    const all = await getaddrinfo("localhost", "8080");
    expect(all.length).toBeGreaterThan(0);
    expect(all.length % 2).toBe(0);
    for (let i = 0; i < all.length; i += 2) {
      const [t, u] = [all[i]!, all[i + 1]!];
      expect(t.type).toBe("tcp");
      expect(u.type).toBe("udp");
      expect(t.host.equals(u.host)).toBe(true);
      expect(t.host.isLoopback()).toBe(true);
      expect(t.port).toBe(8080);
    }
  });

  test("keeps the resolver's order, and drops zone ids", async () => {
    const r = makeResolver({
      lookup: async () => [
        { address: "::1", family: 6 },
        { address: "127.0.0.1", family: 4 },
        { address: "fe80::1%lo", family: 6 },
      ],
    });
    expect(fmt(await r.getaddrinfo("example.test", "53"))).toEqual([
      "tcp:[::1]:53",
      "udp:[::1]:53",
      "tcp:127.0.0.1:53",
      "udp:127.0.0.1:53",
      "tcp:[fe80::1]:53",
      "udp:[fe80::1]:53",
    ]);
  });

  test("an unknown service fails with IoError NotFound naming it", async () => {
    const e = await getaddrinfo("127.0.0.1", "no-such-service-x").catch((x: unknown) => x);
    expect(isIoError(e, "NotFound")).toBe(true);
    expect(String((e as Error).message)).toMatch(
      /unknown service "no-such-service-x": not a port number or a name in \/etc\/services/,
    );
  });

  test("bad arguments throw at once", async () => {
    await expect(getaddrinfo("127.0.0.1", "65536")).rejects.toThrow(
      "service must be a port number in 0..65535, got 65536",
    );
    await expect(getaddrinfo("", "80")).rejects.toThrow(TypeError);
    let lookups = 0;
    const r = makeResolver({
      lookup: async () => {
        lookups++;
        return [];
      },
    });
    await expect(r.getaddrinfo("999.1.1.1", "80")).rejects.toThrow(
      new RangeError('host is not a valid IPv4 address, got "999.1.1.1"'),
    );
    expect(lookups).toBe(0);
  });

  test("a failed lookup (ENOTFOUND) is IoError NotFound carrying the resolver's error", async () => {
    const r = makeResolver({
      lookup: async (host) => {
        throw enotfound(host);
      },
    });
    const e = await r.getaddrinfo("nowhere.test", "80").catch((x: unknown) => x);
    expect(isIoError(e, "NotFound")).toBe(true);
    expect((e as Error).message).toBe("Fs NotFound: getaddrinfo ENOTFOUND nowhere.test");
    expect((e as { err: { cause: { code: string } } }).err.cause.code).toBe("ENOTFOUND");
  });

  test("a cancelled caller is released at once though the lookup cannot be aborted", async () => {
    let calls = 0;
    const r = makeResolver({
      lookup: () => {
        calls++;
        return new Promise(() => {}); // never answers
      },
    });
    const e = await Cancel.sub(async (scope) => {
      const p = r.getaddrinfo("slow.test", "80");
      scope.cancel(new Error("give up"));
      return await p;
    }).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(Cancelled);
    expect(calls).toBe(1);
    const ac = new AbortController();
    ac.abort();
    await expect(r.getaddrinfo("slow.test", "80", { signal: ac.signal })).rejects.toBeInstanceOf(
      Cancelled,
    );
    expect(calls).toBe(1); // not even started
  });
});

describe("getnameinfo()", () => {
  test('127.0.0.1:80 is ["localhost", "http"]', async () => {
    const [host, service] = await getnameinfo(Sockaddr.tcp(Ipaddr.V4.loopback, 80));
    expect([host, service === "www" ? "http" : service]).toEqual(["localhost", "http"]);
  });

  test("a UDP address is named from the UDP entries", async () => {
    const r = makeResolver({
      readServices: async () => SERVICES,
      lookupService: async () => ({ hostname: "localhost", service: "tcp-name" }),
    });
    expect(await r.getnameinfo(Sockaddr.udp(Ipaddr.V4.loopback, 53))).toEqual([
      "localhost",
      "domain",
    ]);
    expect(await r.getnameinfo(Sockaddr.udp(Ipaddr.V4.loopback, 4000))).toEqual([
      "localhost",
      "4000",
    ]);
  });

  test("a host without a name gives its numeric form, as getnameinfo(3) does", async () => {
    const r = makeResolver({
      lookupService: async (address) => {
        throw Object.assign(new Error(`getnameinfo ENOTFOUND ${address}`), { code: "ENOTFOUND" });
      },
      readServices: async () => SERVICES,
    });
    expect(await r.getnameinfo(Sockaddr.tcp(Ipaddr.V6.loopback, 80))).toEqual(["::1", "http"]);
    expect(await r.getnameinfo(Sockaddr.tcp(Ipaddr.V6.loopback, 81))).toEqual(["::1", "81"]);
  });

  test("other failures are IoErrors; a Unix address is refused", async () => {
    const r = makeResolver({
      lookupService: async () => {
        throw Object.assign(new Error("getnameinfo EAI_AGAIN"), { code: "EAI_AGAIN" });
      },
    });
    const e = await r.getnameinfo(Sockaddr.tcp(Ipaddr.V4.loopback, 80)).catch((x: unknown) => x);
    expect(isIoError(e)).toBe(true);
    await expect(
      getnameinfo(Sockaddr.unix("/tmp/x") as unknown as ReturnType<typeof Sockaddr.tcp>),
    ).rejects.toThrow(TypeError);
  });
});

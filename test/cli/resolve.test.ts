/**
 * `weir resolve` with names and addresses that never leave this machine (/etc/hosts,
 * numeric hosts, /etc/services).
 */
import { afterEach, describe, expect, test } from "vitest";
import { cleanup, weirRun } from "./harness.ts";

afterEach(cleanup);

describe("weir resolve", () => {
  test("localhost http: the getaddrinfo results with their getnameinfo", async () => {
    const r = await weirRun(["resolve", "localhost", "http"]);
    expect(r.code, r.stderr).toBe(0);
    // http is TCP only in /etc/services: no UDP line
    expect(r.stdout).toMatch(/^tcp:127\.0\.0\.1:80 +localhost http$/m);
    expect(r.stdout).not.toMatch(/^udp:/m);
    expect(r.stderr).toBe("");
  });

  test("a numeric host with --json: TCP and UDP addresses, each with its reverse lookup", async () => {
    const r = await weirRun(["resolve", "127.0.0.1", "443", "--json"]);
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout) as {
      host: string;
      service: string;
      addresses: Array<Record<string, unknown>>;
    };
    expect(out.host).toBe("127.0.0.1");
    expect(out.service).toBe("443");
    expect(out.addresses).toEqual([
      {
        address: "tcp:127.0.0.1:443",
        type: "tcp",
        family: 4,
        ip: "127.0.0.1",
        port: 443,
        name: "localhost",
        nameService: "https",
      },
      {
        address: "udp:127.0.0.1:443",
        type: "udp",
        family: 4,
        ip: "127.0.0.1",
        port: 443,
        name: "localhost",
        nameService: "https",
      },
    ]);
  });

  test("--udp --no-reverse: only datagram addresses, no names", async () => {
    const r = await weirRun(["resolve", "127.0.0.1", "53", "--udp", "--no-reverse"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe("udp:127.0.0.1:53\n");
  });

  test("an IPv6 literal", async () => {
    const r = await weirRun(["resolve", "::1", "7000", "--tcp", "--no-reverse"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe("tcp:[::1]:7000\n");
  });

  test("an unknown service: exit 1 with the IoError and its context", async () => {
    const r = await weirRun(["resolve", "localhost", "nosuchservice"]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(
      /^weir resolve: \w+ \w+.*nosuchservice.*\n {2}looking up "localhost"\n$/,
    );
  });
});

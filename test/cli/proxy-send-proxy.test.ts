/**
 * `weir proxy --send-proxy v1|v2`: weir as the load balancer, telling the server behind it
 * whom each connection is from with a PROXY protocol header, read back here by weir's parser.
 */
import net from "node:net";
import { afterEach, describe, expect, test } from "vitest";
import { Sockaddr } from "../../src/net/index.ts";
import { parseProxyHeader } from "../../src/net/proxy-protocol/index.ts";
import { askFrom, Client, cleanup, closeClients, listeningPort, weir, weirRun } from "./harness.ts";

const servers = new Set<net.Server>();
afterEach(async () => {
  await closeClients();
  await cleanup();
  await Promise.all([...servers].map((s) => new Promise((r) => s.close(r))));
  servers.clear();
});

/** A node:net server that collects what each connection sends until its end, then ends too. */
async function collector(): Promise<{ port: number; received: Promise<Buffer> }> {
  const { promise, resolve } = Promise.withResolvers<Buffer>();
  const srv = net.createServer({ allowHalfOpen: true }, (s) => {
    const chunks: Buffer[] = [];
    s.on("data", (b: Buffer) => chunks.push(b));
    s.on("end", () => {
      resolve(Buffer.concat(chunks));
      s.end();
    });
    s.on("error", () => {});
  });
  servers.add(srv);
  await new Promise<void>((r) => srv.listen(0, "127.0.0.1", r));
  return { port: (srv.address() as net.AddressInfo).port, received: promise };
}

describe("weir proxy --send-proxy", () => {
  for (const version of ["v1", "v2"] as const) {
    test(`${version}: the header names the client and the proxy's address, then the bytes follow`, async () => {
      const target = await collector();
      const proxy = weir([
        "proxy",
        "--listen",
        "0",
        "--to",
        `127.0.0.1:${target.port}`,
        "--send-proxy",
        version,
      ]);
      const port = await listeningPort(proxy);
      const c = await Client.connect(port);
      c.socket.end("payload after the header");
      const got = await target.received;
      const r = parseProxyHeader(got, version);
      if (r.status !== "done") throw new Error(`no header: ${JSON.stringify(r)}`);
      expect(r.header.version).toBe(version === "v1" ? 1 : 2);
      expect(Sockaddr.format(r.header.source!)).toBe(`tcp:127.0.0.1:${c.localPort}`);
      expect(Sockaddr.format(r.header.destination!)).toBe(`tcp:127.0.0.1:${port}`);
      expect(got.subarray(r.length).toString()).toBe("payload after the header");
    });
  }

  test("in front of weir echo --proxy-protocol: echo logs the client, from 127.0.0.2", async () => {
    const echo = weir(["echo", "--proxy-protocol", "any", "-v"]);
    const eport = await listeningPort(echo);
    const proxy = weir([
      "proxy",
      "--listen",
      "0",
      "--to",
      `127.0.0.1:${eport}`,
      "--send-proxy",
      "v1",
    ]);
    const port = await listeningPort(proxy);
    const reply = await askFrom(port, "127.0.0.2", "echo me");
    expect(reply).toBe("echo me");
    await echo.waitFor("stderr", /weir echo: connection from tcp:127\.0\.0\.2:\d+\n/);
  });

  test("another version is a usage error", async () => {
    const r = await weirRun([
      "proxy",
      "--listen",
      "0",
      "--to",
      "127.0.0.1:1",
      "--send-proxy",
      "v3",
    ]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--send-proxy must be one of v1, v2, got "v3"');
  });
});

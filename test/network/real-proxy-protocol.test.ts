/**
 * PROXY protocol on real sockets: a weir server with `proxyProtocol` behind `weir proxy
 * --send-proxy` (weir as the balancer), with clients bound to 127.0.0.2 and 127.0.0.3, so that
 * the addresses the server reports are the clients' and not the balancer's (127.0.0.1).
 */
import net from "node:net";
import { afterEach, describe, expect, test } from "vitest";
import { Flow, Net, run, Sockaddr, Switch, Tcp } from "../../src/index.ts";
import { askFrom, cleanup, listeningPort, weir } from "../cli/harness.ts";

afterEach(cleanup);

describe("proxyProtocol behind weir proxy --send-proxy", () => {
  for (const version of ["v1", "v2"] as const) {
    test(`${version}: Net.runServer sees each client's own address`, async () => {
      await run(async (env) => {
        await Switch.run(async (sw) => {
          const l = await env.net.listen("tcp:127.0.0.1:0", { sw, proxyProtocol: version });
          const { promise: stop, resolve } = Promise.withResolvers<void>();
          const server = Net.runServer(
            l,
            async (flow, addr) => {
              const msg = await Flow.readAll(flow, { maxSize: 100 });
              const via = Sockaddr.format(flow.proxiedBy!);
              await Flow.copyString(
                `${msg} from ${Sockaddr.format(addr)} via ${via.replace(/:\d+$/, "")}`,
                flow,
              );
            },
            {
              onError: (e) => {
                throw e;
              },
              stop,
            },
          );
          const port = (l.listeningAddr as { port: number }).port;
          const proxy = weir([
            "proxy",
            "--listen",
            "0",
            "--to",
            `127.0.0.1:${port}`,
            "--send-proxy",
            version,
          ]);
          const pport = await listeningPort(proxy);
          const [a, b] = await Promise.all([
            askFrom(pport, "127.0.0.2", "hi"),
            askFrom(pport, "127.0.0.3", "ho"),
          ]);
          expect(a).toMatch(/^hi from tcp:127\.0\.0\.2:\d+ via tcp:127\.0\.0\.1$/);
          expect(b).toMatch(/^ho from tcp:127\.0\.0\.3:\d+ via tcp:127\.0\.0\.1$/);
          resolve();
          await server;
        });
      });
    });
  }

  test("Tcp.Server.create with proxyProtocol gives the handler the client's address", async () => {
    const server = await Tcp.Server.create(
      Tcp.WhereToListen.onPortChosenByOs({ host: "127.0.0.1" }),
      async (addr, reader, writer) => {
        writer.write(`${await reader.readLine()} from ${Sockaddr.format(addr)}\n`);
      },
      { onHandlerError: "raise", proxyProtocol: "any" },
    );
    const proxy = weir([
      "proxy",
      "--listen",
      "0",
      "--to",
      `127.0.0.1:${server.listeningOn}`,
      "--send-proxy",
      "v2",
    ]);
    const pport = await listeningPort(proxy);
    expect(await askFrom(pport, "127.0.0.2", "line\n")).toMatch(
      /^line from tcp:127\.0\.0\.2:\d+\n$/,
    );
    await server.close({ closeExistingConnections: true });
  });
});

describe("Tcp.Server with proxyProtocol and onHandlerError: raise", () => {
  test("a client without a PROXY header is warned about, never raised: the server goes on", async () => {
    const warnings: string[] = [];
    const server = await Tcp.Server.create(
      Tcp.WhereToListen.onPortChosenByOs({ host: "127.0.0.1" }),
      async (addr, reader, writer) => {
        writer.write(`${await reader.readLine()} from ${Sockaddr.format(addr)}\n`);
      },
      { onHandlerError: "raise", proxyProtocol: "v1", onWarning: (m) => warnings.push(m) },
    );
    const port = server.listeningOn as number;
    expect(await askFrom(port, "127.0.0.2", "GET / HTTP/1.0\r\n\r\n")).toBe("");
    expect(await askFrom(port, "127.0.0.2", "PROXY TCP4 127.0.0.5 127.0.0.1 4000 80\r\nok\n")).toBe(
      "ok from tcp:127.0.0.5:4000\n",
    );
    expect(server.isClosed).toBe(false);
    expect(warnings).toEqual([
      `Tcp.Server on tcp:127.0.0.1:${port}: a connection failed its set-up (not raised: the peer's fault, not the handler's): Net ProxyProtocol Missing: no PROXY v1 header: the first byte is 0x47`,
    ]);
    await server.close({ closeExistingConnections: true });
  });
});

describe("proxyProtocol under headerTimeout", () => {
  test("a PROXY header that trickles in is closed before it takes the only slot; a bad one goes to onError", async () => {
    await run(async (env) => {
      await Switch.run(async (sw) => {
        const l = await env.net.listen("tcp:127.0.0.1:0", { sw, proxyProtocol: "v1" });
        const errors: string[] = [];
        const { promise: stop, resolve } = Promise.withResolvers<void>();
        const server = Net.runServer(
          l,
          async (flow, addr) => {
            await Flow.copyString(`hello ${Sockaddr.format(addr)}`, flow);
          },
          {
            maxConnections: 1,
            headerTimeout: 300,
            onError: (e) => errors.push(e instanceof Error ? e.message.split("\n")[0]! : String(e)),
            stop,
          },
        );
        const port = (l.listeningAddr as { port: number }).port;
        // one byte of a v1 header every 100 ms: 45 bytes would take 4.5 s
        const slow = net.connect({ port, host: "127.0.0.1" });
        slow.on("error", () => {});
        const header = "PROXY TCP4 127.0.0.2 127.0.0.1 40000 80\r\n";
        let i = 0;
        const drip = setInterval(() => {
          if (i < header.length && !slow.destroyed) slow.write(header[i++]!);
        }, 100);
        const slowClosed = new Promise<void>((r) => slow.once("close", () => r()));
        await new Promise((r) => setTimeout(r, 150));
        // meanwhile a good client is served through the one slot
        const good = await askFrom(
          port,
          "127.0.0.3",
          "PROXY TCP4 127.0.0.4 127.0.0.1 40001 80\r\n",
        );
        expect(good).toBe("hello tcp:127.0.0.4:40001");
        await slowClosed;
        clearInterval(drip);
        expect(i).toBeLessThan(header.length); // closed before its header was done
        const bad = await askFrom(port, "127.0.0.3", "GET / HTTP/1.0\r\n\r\n");
        expect(bad).toBe("");
        resolve();
        await server;
        expect(errors).toEqual([
          "Net ProxyProtocol Missing: no PROXY v1 header: the first byte is 0x47",
        ]);
      });
    });
  });
});

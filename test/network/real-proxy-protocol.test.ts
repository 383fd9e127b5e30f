/**
 * PROXY protocol on real sockets: a weir server with `proxyProtocol` behind `weir proxy
 * --send-proxy` (weir as the balancer), with clients bound to 127.0.0.2 and 127.0.0.3, so that
 * the addresses the server reports are the clients' and not the balancer's (127.0.0.1).
 */
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

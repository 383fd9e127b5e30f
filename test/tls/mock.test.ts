/**
 * A TLS session over `Mock.Flow.pair` on the mock backend: the same trace on every run.
 */
import { expect, test } from "vitest";
import { Fiber, Switch, traceln } from "../../src/core/index.ts";
import { readAll } from "../../src/flow/flow-ops.ts";
import { Mock } from "../../src/mock/index.ts";
import { Tls } from "../../src/tls/index.ts";
import { certs } from "./support.ts";

const enc = new TextEncoder();

/** A client and a server, each in its fiber, over an in-memory pair; returns the trace. */
async function session(): Promise<string[]> {
  const lines: string[] = [];
  await Mock.Backend.run(
    () =>
      Switch.run(async (sw) => {
        const [a, b] = Mock.Flow.pair({ sw });
        await Fiber.both(
          async () => {
            const c = await Tls.client(a, {
              ca: certs.ca,
              serverName: "localhost",
              alpn: ["weir/1"],
              sw,
            });
            traceln(
              `client: ${c.tlsVersion}, alpn ${c.alpnProtocol}, peer ${c.peerCertificate()?.subject}`,
            );
            await c.write([enc.encode("hello")]);
            await c.shutdown("send");
            traceln(`client: read ${JSON.stringify(await readAll(c, { maxSize: 100 }))}`);
          },
          async () => {
            const s = await Tls.server(b, { ...certs.server, alpn: ["weir/1"], sw });
            traceln(`server: ${s.tlsVersion}, sni ${s.serverName}`);
            const got = await readAll(s, { maxSize: 100 });
            traceln(`server: read ${JSON.stringify(got)}`);
            await s.write([enc.encode(`${got}, back`)]);
            await s.shutdown("send");
          },
        );
      }),
    { onTrace: (l) => lines.push(l) },
  );
  return lines;
}

test("Tls.client() and Tls.server() run a session over Mock.Flow.pair, the same trace twice", async () => {
  const first = await session();
  expect(first).toMatchInlineSnapshot(`
    [
      "client: TLSv1.3, alpn weir/1, peer CN=localhost",
      "server: TLSv1.3, sni localhost",
      "server: read "hello"",
      "client: read "hello, back"",
    ]
  `);
  expect(await session()).toEqual(first);
});

test("the mock network's connect() and listen() with tls are a TypeError: no plain socket instead", async () => {
  await Mock.Backend.run(() =>
    Switch.run(async (sw) => {
      const net = Mock.Net.make("net");
      const message =
        "this network does not run TLS itself (option tls); run Tls.client or Tls.server over the connection";
      await expect(net.connect("tcp:127.0.0.1:443", { sw, tls: {} })).rejects.toThrow(
        new TypeError(`connect: ${message}`),
      );
      await expect(
        net.listen("tcp:127.0.0.1:443", { sw, backlog: 1, tls: certs.server }),
      ).rejects.toThrow(new TypeError(`listen: ${message}`));
    }),
  );
});

test("Tls.server() over a mock flow whose peer never speaks fails after handshakeTimeout, in mock time", async () => {
  const lines: string[] = [];
  await Mock.Backend.runFull(
    () =>
      Switch.run(async (sw) => {
        const [, b] = Mock.Flow.pair({ sw });
        try {
          await Tls.server(b, { ...certs.server, handshakeTimeout: 5000, sw });
        } catch (e) {
          traceln(`server: ${(e as Error).message}`);
        }
      }),
    { onTrace: (l) => lines.push(l) },
  );
  expect(lines).toMatchInlineSnapshot(`
    [
      "mock time is now 5000",
      "server: Net Tls Handshake: the handshake did not finish within 5000 ms",
      "  TLS handshake with tcp:127.0.0.1:0",
    ]
  `);
});

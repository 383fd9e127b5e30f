/**
 * `net.listen(addr, { sw, tls })` with node:tls clients on loopback: the handshake in the
 * handler's fiber, failures to `onError`, SNI, ALPN, client certificates, certificate swaps.
 */
import { expect, test } from "vitest";
import { NodeNet } from "../../src/backend-node/node-net.ts";
import { type IoError, Switch } from "../../src/core/index.ts";
import { copy } from "../../src/flow/flow-ops.ts";
import type { ListeningSocket, TlsSocket } from "../../src/net/types.ts";
import { certs, nodeTlsConnect, readToEnd } from "./support.ts";

const net = new NodeNet();

/** Runs `fn` with a TLS echo server whose handler first records the session it sees. */
async function withEchoServer(
  tls: Parameters<NodeNet["listen"]>[1]["tls"],
  fn: (port: number, seen: string[], errors: unknown[], l: ListeningSocket) => Promise<void>,
): Promise<void> {
  const seen: string[] = [];
  const errors: unknown[] = [];
  await Switch.run(async (sw) => {
    const l = await net.listen("tcp:127.0.0.1:0", { sw, backlog: 16, tls });
    const port = (l.listeningAddr as { port: number }).port;
    sw.fork(async () => {
      for (;;) {
        await l.acceptFork({ sw, onError: (e) => errors.push(e) }, async (flow) => {
          const t = flow as TlsSocket;
          seen.push(
            `${t.tlsVersion} alpn=${t.alpnProtocol} sni=${t.serverName} peer=${t.peerCertificate()?.subject ?? "none"} authorized=${t.authorized}`,
          );
          await copy(flow, flow);
          await flow.shutdown("send");
        });
      }
    });
    try {
      await fn(port, seen, errors, l);
    } finally {
      await l.close();
      sw.fail(new Error("test over"));
    }
  }).catch((e: unknown) => {
    if (!(e instanceof Error && e.message === "test over")) throw e;
  });
}

test("listen() with tls serves node:tls clients; the handler sees the finished session", async () => {
  await withEchoServer({ ...certs.server, alpn: ["weir/1"] }, async (port, seen) => {
    const c = await nodeTlsConnect({
      port,
      ca: certs.ca,
      servername: "localhost",
      ALPNProtocols: ["weir/1"],
    });
    c.end("hello over TLS");
    expect(await readToEnd(c)).toBe("hello over TLS");
    c.destroy();
    expect(seen).toEqual(["TLSv1.3 alpn=weir/1 sni=localhost peer=none authorized=false"]);
  });
});

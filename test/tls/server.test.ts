/**
 * `net.listen(addr, { sw, tls })` with node:tls clients on loopback: the handshake in the
 * handler's fiber, failures to `onError`, SNI, ALPN, client certificates, certificate swaps.
 */
import { createConnection } from "node:net";
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

/** Waits until `errors` holds `n` errors (bounded: 5 s). */
async function waitFor(errors: unknown[], n: number): Promise<void> {
  for (let i = 0; i < 500 && errors.length < n; i++) await new Promise((r) => setTimeout(r, 10));
}

/** The messages of the `IoError`s in `errors`, with the port numbers blanked out. */
function messages(errors: unknown[]): string[] {
  return errors.map((e) => (e as IoError).message.replace(/:\d+(\n|$)/g, ":PORT$1"));
}

test("listen() with tls: a plain-text client's handshake goes to onError, never to the handler", async () => {
  await withEchoServer(certs.server, async (port, seen, errors) => {
    const raw = createConnection({ host: "127.0.0.1", port });
    raw.on("error", () => {});
    raw.end("GET / HTTP/1.0\r\n\r\n");
    await waitFor(errors, 1);
    raw.destroy();
    expect(seen).toEqual([]);
    expect(messages(errors)[0]).toMatch(
      /^Net Tls Handshake: (http request|wrong version number)\n {2}TLS handshake with tcp:127\.0\.0\.1:PORT$/,
    );
  });
});

test("listen() with tls: a handshake that never finishes fails after handshakeTimeout", async () => {
  await withEchoServer({ ...certs.server, handshakeTimeout: 50 }, async (port, seen, errors) => {
    const raw = createConnection({ host: "127.0.0.1", port });
    raw.on("error", () => {});
    await waitFor(errors, 1);
    raw.destroy();
    expect(seen).toEqual([]);
    expect(messages(errors)).toEqual([
      "Net Tls Handshake: the handshake did not finish within 50 ms\n  TLS handshake with tcp:127.0.0.1:PORT",
    ]);
  });
});

test("listen() with tls picks the certificate by SNI name", async () => {
  await withEchoServer(
    { ...certs.server, ca: certs.ca, sni: { "other.test": certs.other } },
    async (port, seen) => {
      for (const servername of ["other.test", "localhost"]) {
        const c = await nodeTlsConnect({ port, ca: certs.ca, servername });
        expect(c.getPeerX509Certificate()?.subject).toBe(`CN=${servername}`);
        c.end("x");
        await readToEnd(c);
        c.destroy();
      }
      expect(seen).toEqual([
        "TLSv1.3 alpn=null sni=other.test peer=none authorized=false",
        "TLSv1.3 alpn=null sni=localhost peer=none authorized=false",
      ]);
    },
  );
});

test("listen() with tls, requestCert and ca: the handler sees the verified client certificate", async () => {
  await withEchoServer(
    { ...certs.server, ca: certs.ca, requestCert: true },
    async (port, seen, errors) => {
      const c = await nodeTlsConnect({
        port,
        ca: certs.ca,
        servername: "localhost",
        ...certs.client,
      });
      c.end("with a certificate");
      expect(await readToEnd(c)).toBe("with a certificate");
      c.destroy();
      expect(seen).toEqual([
        "TLSv1.3 alpn=null sni=localhost peer=CN=weir test client authorized=true",
      ]);
      // Without one: TLS 1.3 clients finish first and learn of the refusal from the alert
      const bare = await nodeTlsConnect({ port, ca: certs.ca, servername: "localhost" });
      const refused = await readToEnd(bare).catch((e: { code?: string }) => e.code);
      bare.destroy();
      expect(refused).toBe("ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED");
      await waitFor(errors, 1);
      expect(messages(errors)).toEqual([
        "Net Tls Certificate: peer did not return a certificate\n  TLS handshake with tcp:127.0.0.1:PORT",
      ]);
      expect(seen.length).toBe(1);
    },
  );
});

test("setTlsContext() swaps the certificate for new connections without dropping the listener", async () => {
  await withEchoServer(certs.server, async (port, _seen, errors, l) => {
    const before = await nodeTlsConnect({ port, ca: certs.ca, servername: "localhost" });
    l.setTlsContext?.(certs.other);
    const after = await nodeTlsConnect({ port, ca: certs.ca, servername: "other.test" });
    expect(after.getPeerX509Certificate()?.subject).toBe("CN=other.test");
    // The connection made before the swap goes on with its session
    before.end("still here");
    expect(await readToEnd(before)).toBe("still here");
    after.end("renewed");
    expect(await readToEnd(after)).toBe("renewed");
    before.destroy();
    after.destroy();
    expect(errors).toEqual([]);
    expect(() => l.setTlsContext?.({ cert: "not a certificate", key: certs.other.key })).toThrow(
      /^Net Tls Certificate: .*\n {2}loading the certificate and key of tls$/,
    );
  });
});

test("setTlsContext() on a listener without tls is a TypeError", async () => {
  await Switch.run(async (sw) => {
    const l = await net.listen("tcp:127.0.0.1:0", { sw, backlog: 1 });
    expect(() => l.setTlsContext?.(certs.server)).toThrow(
      new TypeError("setTlsContext: this listening socket does not serve TLS"),
    );
  });
});

test("listen() with tls: a client that refuses the certificate and leaves fails the handshake at once", async () => {
  await withEchoServer(certs.expired, async (port, seen, errors) => {
    const started = Date.now();
    await expect(nodeTlsConnect({ port, ca: certs.ca, servername: "localhost" })).rejects.toThrow(
      "certificate has expired",
    );
    await waitFor(errors, 1);
    expect(Date.now() - started).toBeLessThan(5000);
    expect(seen).toEqual([]);
    expect(messages(errors)[0]).toMatch(
      /^Net Tls Handshake: .*\n {2}TLS handshake with tcp:127\.0\.0\.1:PORT$/,
    );
  });
});

/**
 * `net.connect(addr, { sw, tls })` against node:tls servers on loopback.
 */
import { expect, test } from "vitest";
import { NodeNet } from "../../src/backend-node/node-net.ts";
import { IoError, Switch } from "../../src/core/index.ts";
import { readAll } from "../../src/flow/flow-ops.ts";
import type { TlsSocket } from "../../src/net/types.ts";
import { certs, nodeTlsServer } from "./support.ts";

const net = new NodeNet();
const enc = new TextEncoder();

test("connect() with tls talks to a node:tls server and shows the session", async () => {
  await using srv = await nodeTlsServer(
    { ...certs.server, ALPNProtocols: ["h2", "weir/1"] },
    (s) => {
      s.on("data", (b: Buffer) => s.write(`echo ${b}`));
      s.on("end", () => s.end());
    },
  );
  await Switch.run(async (sw) => {
    const sock = (await net.connect(`tcp:127.0.0.1:${srv.port}`, {
      sw,
      tls: { ca: certs.ca, serverName: "localhost", alpn: ["weir/1"] },
    })) as TlsSocket;
    expect([sock.tlsVersion, sock.alpnProtocol, sock.serverName, sock.authorized]).toEqual([
      "TLSv1.3",
      "weir/1",
      "localhost",
      true,
    ]);
    expect(sock.peerCertificate()?.subject).toBe("CN=localhost");
    await sock.write([enc.encode("hello")]);
    await sock.shutdown("send");
    expect(await readAll(sock, { maxSize: 100 })).toBe("echo hello");
  });
});

test("connect() with tls checks the certificate against the IP address by default", async () => {
  await using srv = await nodeTlsServer(certs.server, (s) => s.end("ok"));
  await Switch.run(async (sw) => {
    const sock = await net.connect(`tcp:127.0.0.1:${srv.port}`, { sw, tls: { ca: certs.ca } });
    expect(await readAll(sock, { maxSize: 100 })).toBe("ok");
  });
});

test("connect() with tls rejects an untrusted certificate: Tls Certificate", async () => {
  await using srv = await nodeTlsServer(certs.server, (s) => s.end("ok"));
  const e = await Switch.run((sw) =>
    net.connect(`tcp:127.0.0.1:${srv.port}`, { sw, tls: { serverName: "localhost" } }),
  ).catch((x: unknown) => x);
  expect(e).toBeInstanceOf(IoError);
  expect((e as IoError).message).toBe(
    `Net Tls Certificate: unable to verify the first certificate; if the root CA is installed locally, try running Node.js with --use-system-ca\n  TLS handshake with tcp:127.0.0.1:${srv.port}\n  connecting to tcp:127.0.0.1:${srv.port}`,
  );
});

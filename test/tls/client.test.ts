/**
 * `net.connect(addr, { sw, tls })` against node:tls servers on loopback.
 */
import { expect, test } from "vitest";
import { NodeNet } from "../../src/backend-node/node-net.ts";
import { IoError, Switch } from "../../src/core/index.ts";
import { readAll } from "../../src/flow/flow-ops.ts";
import type { TlsConnectOptions, TlsSocket } from "../../src/net/types.ts";
import { certs, endSoon, nodeTlsServer } from "./support.ts";

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
  await using srv = await nodeTlsServer(certs.server, (s) => endSoon(s, "ok"));
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
  // Node 24 adds a hint about --use-system-ca to its message; Node 22 does not
  expect((e as IoError).message.replace(/; if the root CA .*/, "")).toBe(
    `Net Tls Certificate: unable to verify the first certificate\n  TLS handshake with tcp:127.0.0.1:${srv.port}\n  connecting to tcp:127.0.0.1:${srv.port}`,
  );
  expect(((e as IoError).err.cause as { code?: string }).code).toBe(
    "UNABLE_TO_VERIFY_LEAF_SIGNATURE",
  );
});

/** The error `connect()` with `tls` fails with against a node:tls server made with `opts`. */
async function connectError(
  serverOpts: Parameters<typeof nodeTlsServer>[0],
  tls: TlsConnectOptions,
): Promise<string> {
  await using srv = await nodeTlsServer(serverOpts, (s) => s.end("ok"));
  const e = await Switch.run((sw) => net.connect(`tcp:127.0.0.1:${srv.port}`, { sw, tls })).then(
    () => new Error("connected"),
    (x: unknown) => x,
  );
  expect(e).toBeInstanceOf(IoError);
  return (e as IoError).message.replaceAll(`:${srv.port}`, ":PORT");
}

test("connect() with tls rejects an expired certificate: Tls Certificate", async () => {
  expect(await connectError(certs.expired, { ca: certs.ca, serverName: "localhost" })).toBe(
    "Net Tls Certificate: certificate has expired\n  TLS handshake with tcp:127.0.0.1:PORT\n  connecting to tcp:127.0.0.1:PORT",
  );
});

test("connect() with tls rejects a certificate for another name: Tls Certificate", async () => {
  expect(await connectError(certs.server, { ca: certs.ca, serverName: "other.test" })).toBe(
    "Net Tls Certificate: Hostname/IP does not match certificate's altnames: Host: other.test. is not in the cert's altnames: DNS:localhost, IP Address:127.0.0.1, IP Address:0:0:0:0:0:0:0:1\n  TLS handshake with tcp:127.0.0.1:PORT\n  connecting to tcp:127.0.0.1:PORT",
  );
});

test("connect() with tls and no common ALPN protocol: Tls Handshake", async () => {
  expect(
    await connectError(
      { ...certs.server, ALPNProtocols: ["h2"] },
      { ca: certs.ca, serverName: "localhost", alpn: ["weir/1"] },
    ),
  ).toBe(
    "Net Tls Handshake: tlsv1 alert no application protocol\n  TLS handshake with tcp:127.0.0.1:PORT\n  connecting to tcp:127.0.0.1:PORT",
  );
});

test("connect() with rejectUnauthorized: false accepts an untrusted certificate, unauthorized", async () => {
  await using srv = await nodeTlsServer(certs.expired, (s) => endSoon(s, "ok"));
  await Switch.run(async (sw) => {
    const sock = (await net.connect(`tcp:127.0.0.1:${srv.port}`, {
      sw,
      tls: { rejectUnauthorized: false },
    })) as TlsSocket;
    expect(sock.authorized).toBe(false);
    expect(await readAll(sock, { maxSize: 10 })).toBe("ok");
  });
});

test("connect() with a client certificate, to a weir server that requires one", async () => {
  await Switch.run(async (sw) => {
    const l = await net.listen("tcp:127.0.0.1:0", {
      sw,
      backlog: 1,
      tls: { ...certs.server, ca: certs.ca, requestCert: true },
    });
    const [sock] = await Promise.all([
      net.connect(l.listeningAddr, { sw, tls: { ca: certs.ca, ...certs.client } }),
      l.acceptFork({ sw, onError: (e) => sw.fail(e) }, async (flow) => {
        const t = flow as TlsSocket;
        await flow.write([enc.encode(`hello ${t.peerCertificate()?.subject}, ${t.authorized}`)]);
        await flow.shutdown("send");
      }),
    ]);
    expect(await readAll(sock, { maxSize: 100 })).toBe("hello CN=weir test client, true");
    await l.close();
  });
});

test("connect() with bad tls options throws at once, naming the option", async () => {
  await Switch.run(async (sw) => {
    const at = "tcp:127.0.0.1:1";
    await expect(net.connect(at, { sw, tls: { alpn: [] } })).rejects.toThrow(
      new TypeError("tls.alpn must be a non-empty array of protocol names, got an array"),
    );
    await expect(net.connect(at, { sw, tls: { serverName: "" } })).rejects.toThrow(
      new TypeError('tls.serverName must be a non-empty string, got ""'),
    );
    await expect(net.connect(at, { sw, tls: { cert: certs.client.cert } })).rejects.toThrow(
      new TypeError("tls.cert and tls.key go together, got only cert"),
    );
    await expect(net.connect(at, { sw, tls: { handshakeTimeout: -1 } })).rejects.toThrow(
      new RangeError("tls.handshakeTimeout must be a number of ms >= 0, got -1"),
    );
    await expect(net.connect(at, { sw, tls: { ca: 42 as unknown as string } })).rejects.toThrow(
      new TypeError("tls.ca must be PEM text (a string or bytes), got 42"),
    );
  });
});

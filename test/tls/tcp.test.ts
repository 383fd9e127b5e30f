/**
 * `tls` through the other faces: `Tcp.Server.create`/`createSock`, `Tcp.connect`/
 * `withConnection` and `Net.withTcpConnect`, on loopback.
 */
import { expect, test } from "vitest";
import { nodeNet } from "../../src/backend-node/node-net.ts";
import { IoError } from "../../src/core/index.ts";
import { readAll } from "../../src/flow/flow-ops.ts";
import type { TlsSocket } from "../../src/net/types.ts";
import { withTcpConnect } from "../../src/net/with-tcp-connect.ts";
import { run } from "../../src/run.ts";
import { Tcp } from "../../src/tcp/index.ts";
import { certs, endSoon, nodeTlsConnect, nodeTlsServer, readToEnd } from "./support.ts";

const local = (): ReturnType<typeof Tcp.WhereToListen.onPortChosenByOs> =>
  Tcp.WhereToListen.onPortChosenByOs({ host: "127.0.0.1" });

test("Tcp.Server.create() with tls and Tcp.withConnection() with tls talk lines over TLS", async () => {
  await run(async (env) => {
    await using server = await Tcp.Server.create(
      local(),
      async (_addr, reader, writer) => {
        for await (const line of reader.lines()) writer.writeLine(line.toUpperCase());
      },
      { net: env.net, onHandlerError: "raise", tls: certs.server },
    );
    const reply = await Tcp.withConnection(
      Tcp.WhereToConnect.hostAndPort("localhost", server.listeningOn),
      async ({ socket, reader, writer }) => {
        writer.writeLine("hello");
        return `${await reader.readLine()} over ${(socket as TlsSocket).tlsVersion}`;
      },
      { net: env.net, tls: { ca: certs.ca } },
    );
    expect(reply).toBe("HELLO over TLSv1.3");
  });
});

test("Tcp.Server.createSock() with tls: a failed handshake goes to onHandlerError, not the handler", async () => {
  await run(async (env) => {
    const calls: string[] = [];
    await using server = await Tcp.Server.createSock(
      local(),
      async (_addr, socket) => {
        calls.push("handler");
        await socket.write([new TextEncoder().encode("hi")]);
      },
      {
        net: env.net,
        onHandlerError: {
          call: (_a, e) => calls.push((e as IoError).message.replace(/:\d+(\n|$)/g, ":PORT$1")),
        },
        tls: { ...certs.server, ca: certs.ca, requestCert: true },
      },
    );
    // A client without a certificate: refused; with one: served
    const bare = await nodeTlsConnect({
      port: server.listeningOn,
      ca: certs.ca,
      servername: "localhost",
    });
    await readToEnd(bare).catch(() => {});
    bare.destroy();
    const ok = await nodeTlsConnect({
      port: server.listeningOn,
      ca: certs.ca,
      servername: "localhost",
      ...certs.client,
    });
    expect(await readToEnd(ok)).toBe("hi");
    ok.destroy();
    expect(calls).toEqual([
      "Net Tls Certificate: peer did not return a certificate\n  TLS handshake with tcp:127.0.0.1:PORT\n  handling connection from tcp:127.0.0.1:PORT",
      "handler",
    ]);
  });
});

test("Tcp.connect() with tls refuses a server with a certificate for another name", async () => {
  await using srv = await nodeTlsServer(certs.other, (s) => s.end());
  await run(async (env) => {
    const e = await Tcp.connect(Tcp.WhereToConnect.hostAndPort("localhost", srv.port), {
      net: env.net,
      tls: { ca: certs.ca },
    }).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(IoError);
    expect((e as IoError).err).toMatchObject({ kind: "Tls", reason: "Certificate" });
  });
});

test("Net.withTcpConnect() with tls checks the host name it resolved", async () => {
  await using srv = await nodeTlsServer(certs.server, (s) => endSoon(s, "hello from node:tls"));
  await run(async (env) => {
    const got = await withTcpConnect(
      env.net,
      { host: "localhost", service: String(srv.port), tls: { ca: certs.ca } },
      async (conn) => `${(conn as TlsSocket).serverName}: ${await readAll(conn, { maxSize: 100 })}`,
    );
    expect(got).toBe("localhost: hello from node:tls");
  });
  await expect(
    withTcpConnect(
      nodeNet,
      {
        host: "localhost",
        service: String(srv.port),
        tls: { serverName: "other.test", ca: certs.ca },
      },
      () => "connected",
    ),
  ).rejects.toThrow(/^Net Tls Certificate: Hostname\/IP does not match/);
});

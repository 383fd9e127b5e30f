/**
 * Ending a TLS stream: `shutdown("send")` sends close_notify, then FIN; an end of file without
 * close_notify (a cut connection) is an error the reader sees.
 */
import { expect, test } from "vitest";
import { NodeNet } from "../../src/backend-node/node-net.ts";
import { Fiber, IoError, Switch, traceln } from "../../src/core/index.ts";
import { readAll, readExact } from "../../src/flow/flow-ops.ts";
import { Mock } from "../../src/mock/index.ts";
import { Tls } from "../../src/tls/index.ts";
import { certs, nodeTlsConnect, nodeTlsServer, readToEnd, records, relay } from "./support.ts";

const net = new NodeNet();
const enc = new TextEncoder();

test('shutdown("send") sends close_notify, then FIN; the peer can still answer', async () => {
  await using srv = await nodeTlsServer(certs.server, (s) => {
    s.setEncoding("utf8");
    let got = "";
    s.on("data", (c: string) => {
      got += c;
    });
    s.on("end", () => s.end(`got ${got}`));
  });
  await using r = await relay(srv.port);
  await Switch.run(async (sw) => {
    const sock = await net.connect(`tcp:127.0.0.1:${r.port}`, {
      sw,
      tls: { ca: certs.ca, serverName: "localhost" },
    });
    await sock.write([enc.encode("hello")]);
    await sock.shutdown("send");
    await r.clientEnded;
    // The last record before FIN: an encrypted alert (2 bytes + type + 16-byte tag = 19)
    expect(records(r.sent()).slice(-2)).toEqual(["23:22", "23:19"]);
    expect(await readAll(sock, { maxSize: 100 })).toBe("got hello");
  });
});

test("close() sends close_notify too, so the peer sees a clean end", async () => {
  await using srv = await nodeTlsServer(certs.server, () => {});
  await using r = await relay(srv.port);
  await Switch.run(async (sw) => {
    const sock = await net.connect(`tcp:127.0.0.1:${r.port}`, {
      sw,
      tls: { ca: certs.ca, serverName: "localhost" },
    });
    await sock.write([enc.encode("bye")]);
    await sock.close();
    await r.clientEnded;
    expect(records(r.sent()).slice(-2)).toEqual(["23:20", "23:19"]);
  });
});

test("a TLS stream cut short (FIN without close_notify) is an error, not an end of file", async () => {
  const lines: string[] = [];
  await Mock.Backend.run(
    () =>
      Switch.run(async (sw) => {
        const [a, b] = Mock.Flow.pair({ sw });
        await Fiber.both(
          async () => {
            const c = await Tls.client(a, { ca: certs.ca, serverName: "localhost", sw });
            await c.write([enc.encode("transfer 100")]);
            traceln("client: wrote, then the connection is cut");
            await a.shutdown("send");
          },
          async () => {
            const s = await Tls.server(b, { ...certs.server, sw });
            try {
              await readAll(s, { maxSize: 100 });
            } catch (e) {
              traceln(`server: ${(e as IoError).message}`);
            }
          },
        );
      }),
    { onTrace: (l) => lines.push(l) },
  );
  expect(lines).toMatchInlineSnapshot(`
    [
      "client: wrote, then the connection is cut",
      "server: Net ConnectionReset: TLS stream truncated: end of file without close_notify",
    ]
  `);
});

test("Tls.server() over an accepted socket (STARTTLS) sees a cut connection as an error", async () => {
  await Switch.run(async (sw) => {
    const l = await net.listen("tcp:127.0.0.1:0", { sw, backlog: 1 });
    await using r = await relay((l.listeningAddr as { port: number }).port);
    const client = nodeTlsConnect({ port: r.port, ca: certs.ca, servername: "localhost" });
    const [flow] = await l.accept({ sw });
    const s = await Tls.server(flow, { ...certs.server, sw });
    const c = await client;
    c.write("partial");
    await Fiber.yield();
    r.cut();
    const e = await readAll(s, { maxSize: 100 }).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(IoError);
    expect((e as IoError).message).toBe(
      "Net ConnectionReset: TLS stream truncated: end of file without close_notify",
    );
    c.destroy();
    await l.close();
  });
});

test("Tls.server() over an accepted socket reads a clean end (close_notify) as end of file", async () => {
  await Switch.run(async (sw) => {
    const l = await net.listen("tcp:127.0.0.1:0", { sw, backlog: 1 });
    const client = nodeTlsConnect({
      port: (l.listeningAddr as { port: number }).port,
      ca: certs.ca,
      servername: "localhost",
    });
    const [flow] = await l.accept({ sw });
    const s = await Tls.server(flow, { ...certs.server, sw });
    const c = await client;
    const answer = readToEnd(c);
    c.end("complete");
    expect(await readAll(s, { maxSize: 100 })).toBe("complete");
    await s.shutdown("send");
    expect(await answer).toBe("");
    c.destroy();
    await l.close();
  });
});

test("connect() with tls.strictClose: a cut stream is an error, a clean end an end of file", async () => {
  let cutNext = true;
  // The server answers the client's first bytes (a node:tls server that ends at once, in its
  // secureConnection callback, sends no valid close_notify: openssl s_client reports a
  // decode_error there too)
  await using srv = await nodeTlsServer(certs.server, (s) => {
    const cut = cutNext;
    s.once("data", () => {
      s.write("first part");
      if (!cut) s.end();
    });
  });
  for (const cut of [true, false]) {
    cutNext = cut;
    await using r = await relay(srv.port);
    const got = await Switch.run(async (sw) => {
      const sock = await net.connect(`tcp:127.0.0.1:${r.port}`, {
        sw,
        tls: { ca: certs.ca, serverName: "localhost", strictClose: true },
      });
      await sock.write([enc.encode("go")]);
      const buf = new Uint8Array(10);
      await readExact(sock, buf);
      if (cut) r.cutDown();
      return await readAll(sock, { maxSize: 100 }).then(
        (rest) => `end of file after ${JSON.stringify(new TextDecoder().decode(buf) + rest)}`,
        (e: unknown) => (e as IoError).message,
      );
    });
    expect(got).toBe(
      cut
        ? "Net ConnectionReset: TLS stream truncated: end of file without close_notify"
        : 'end of file after "first part"',
    );
  }
});

test("listen() with tls.strictClose: the handler's read of a cut stream fails, to onError", async () => {
  await Switch.run(async (sw) => {
    const l = await net.listen("tcp:127.0.0.1:0", {
      sw,
      backlog: 1,
      tls: { ...certs.server, strictClose: true },
    });
    await using r = await relay((l.listeningAddr as { port: number }).port);
    const errors: string[] = [];
    const served = l.acceptFork(
      { sw, onError: (e) => errors.push((e as IoError).message) },
      (flow) => readAll(flow, { maxSize: 100 }).then(() => {}),
    );
    const c = await nodeTlsConnect({ port: r.port, ca: certs.ca, servername: "localhost" });
    await served;
    c.write("partial");
    await new Promise((ok) => setTimeout(ok, 50));
    r.cut();
    for (let i = 0; i < 200 && errors.length === 0; i++)
      await new Promise((ok) => setTimeout(ok, 10));
    c.destroy();
    await l.close();
    expect(errors.map((m) => m.replace(/:\d+$/, ":PORT"))).toEqual([
      "Net ConnectionReset: TLS stream truncated: end of file without close_notify\n  handling connection from tcp:127.0.0.1:PORT",
    ]);
  });
});

/**
 * `net.listen(addr, { proxyProtocol })` on the mock, whole traces: the PROXY header is read in
 * the handler's fiber, the handler sees the client's address, and a connection without a valid
 * header goes to `onError` without the handler ever running.
 */
import { describe, expect, test } from "vitest";
import { Fiber, Flow, Net, Sockaddr, Switch, traceln } from "../../src/index.ts";
import { Mock } from "../../src/mock/index.ts";
import { show, transcript } from "./mock-support.ts";

function server(reads: string[][]) {
  return async (env: import("../../src/mock/index.ts").MockEnv) => {
    const listener = Mock.Net.listeningSocket("tcp/80", { listeningAddr: "tcp:127.0.0.1:80" });
    Mock.Net.onListen(env.net, [{ return: listener }]);
    const flows = reads.map((r, i) => {
      const f = Mock.Flow.make(`conn${i}`);
      Mock.Flow.onRead(
        f,
        r.map((x) => ({ return: x })),
      );
      return f;
    });
    let accepted = 0;
    Mock.Net.onAccept(listener, [
      ...flows.map((f, i) => ({ return: [f, `tcp:127.0.0.9:${40000 + i}`] as const })),
      {
        run: () => {
          accepted = flows.length;
          return Fiber.awaitCancel();
        },
      },
    ]);
    await Switch.run(async (sw) => {
      const l = await env.net.listen("tcp:127.0.0.1:80", { sw, proxyProtocol: "any" });
      const { promise: stop, resolve } = Promise.withResolvers<void>();
      await Fiber.both(
        () =>
          Net.runServer(
            l,
            async (flow, addr) => {
              traceln(
                "handler: client %s via %s",
                Sockaddr.format(addr),
                Sockaddr.format(flow.proxiedBy!),
              );
              await Flow.copyString(`hello ${Sockaddr.format(flow.peerAddr)}\n`, flow);
            },
            { onError: (e) => traceln("onError: %s", show(e)), stop },
          ),
        async () => {
          while (accepted < flows.length) await Fiber.yield();
          for (let i = 0; i < 10; i++) await Fiber.yield();
          resolve();
        },
      );
    });
  };
}

describe("net.listen() with proxyProtocol, on the mock", () => {
  test("the handler gets the client from the header; the bytes after it are the application's", async () => {
    const r = await transcript(
      server([
        ["PROXY TCP4 127.0.0.2 127.0.0.1 51000 80\r\nGET / HTTP/1.0\r\n\r\n"],
        ["\r\n\r\n\0\r\nQUIT\n", "!\x11\0\x0c\x7f\0\0\x03\x7f\0\0\x01\xc7\x38\0\x50"],
      ]),
    );
    expect(r.error).toBeUndefined();
    expect(r.trace).toMatchInlineSnapshot(`
      "net: listen on tcp:127.0.0.1:80
      tcp/80: accepted connection from tcp:127.0.0.9:40000
      conn0: read "PROXY TCP4 127.0.0.2 127.0.0.1 51000 80\\r\\n"
                  "GET / HTTP/1.0\\r\\n"
                  "\\r\\n"
      handler: client tcp:127.0.0.2:51000 via tcp:0.0.0.0:0
      conn0: wrote "hello tcp:127.0.0.2:51000\\n"
      conn0: closed
      tcp/80: accepted connection from tcp:127.0.0.9:40001
      conn1: read "\\r\\n"
                  "\\r\\n"
                  "\\000\\r\\n"
                  "QUIT\\n"
      conn1: read "!\\017\\000\\012\\127\\000\\000\\003\\127\\000\\000\\001\\195\\1358\\000P"
      handler: client tcp:127.0.0.3:50055 via tcp:0.0.0.0:0
      conn1: wrote "hello tcp:127.0.0.3:50055\\n"
      conn1: closed
      tcp/80: closed"
    `);
  });

  test("a LOCAL header (the balancer's health check) is closed without the handler", async () => {
    const r = await transcript(server([["\r\n\r\n\0\r\nQUIT\n \0\0\0"]]));
    expect(r.error).toBeUndefined();
    expect(r.trace).toMatchInlineSnapshot(`
      "net: listen on tcp:127.0.0.1:80
      tcp/80: accepted connection from tcp:127.0.0.9:40000
      conn0: read "\\r\\n"
                  "\\r\\n"
                  "\\000\\r\\n"
                  "QUIT\\n"
                  " \\000\\000\\000"
      conn0: closed
      tcp/80: closed"
    `);
  });

  test("a connection without a valid header goes to onError; the handler never runs", async () => {
    const r = await transcript(server([["GET / HTTP/1.1\r\n"], ["PROXY TCP4 1.2.3.4\r\n"]]));
    expect(r.error).toBeUndefined();
    expect(r.trace).toMatchInlineSnapshot(`
      "net: listen on tcp:127.0.0.1:80
      tcp/80: accepted connection from tcp:127.0.0.9:40000
      conn0: read "GET / HTTP/1.1\\r\\n"
      conn0: closed
      onError: IoError: Net ProxyProtocol Missing: no PROXY v1 or v2 header: the first byte is 0x47
        handling connection from tcp:127.0.0.9:40000
      tcp/80: accepted connection from tcp:127.0.0.9:40001
      conn1: read "PROXY TCP4 1.2.3.4\\r\\n"
      conn1: closed
      onError: IoError: Net ProxyProtocol Malformed: 1 fields after TCP4, not 4
        handling connection from tcp:127.0.0.9:40001
      tcp/80: closed"
    `);
  });

  test("proxyProtocol must be v1, v2 or any", async () => {
    const r = await transcript(async (env) => {
      await Switch.run((sw) =>
        env.net.listen("tcp:127.0.0.1:80", { sw, proxyProtocol: "v3" as "v1" }),
      );
    });
    expect(show(r.error)).toBe('TypeError: proxyProtocol must be "v1", "v2" or "any", got "v3"');
  });
});

/**
 * TLS sockets pass the same two-way stream conformance suite as the plain ones: natively over
 * TCP (`net.listen`/`net.connect` with `tls`), with `strictClose`, `Tls.client`/`Tls.server`
 * over plain TCP sockets (STARTTLS), and over `Mock.Flow.pair` on the mock.
 */
import { Fiber, Switch } from "../../src/core/index.ts";
import { runtimeHas } from "../../src/core/runtime.ts";
import { Mock } from "../../src/mock/index.ts";
import type { StreamSocket } from "../../src/net/index.ts";
import { run } from "../../src/run.ts";
import { Tls } from "../../src/tls/index.ts";
import { certs } from "../tls/support.ts";
import { describeTwoWayStream, type StreamPair } from "./stream-conformance.ts";

const client = { ca: certs.ca, serverName: "localhost" };

/** Opens a pair in a switch that stays open until the pair is disposed. */
async function pairIn(
  open: (sw: Switch) => Promise<readonly [StreamSocket, StreamSocket]>,
): Promise<StreamPair> {
  const { promise: done, resolve: release } = Promise.withResolvers<void>();
  const got = Promise.withResolvers<readonly [StreamSocket, StreamSocket]>();
  const scope = Switch.run(async (sw) => {
    got.resolve(await open(sw));
    await done;
  });
  scope.catch(got.reject);
  const [a, b] = await got.promise;
  return Object.assign([a, b] as const, {
    async [Symbol.asyncDispose]() {
      release();
      await scope;
    },
  });
}

const onRun = <T>(fn: () => Promise<T>): Promise<T> => run(() => fn());

/**
 * TLS over a JavaScript stream (`strictClose`, `Tls.client`/`Tls.server`): where the runtime
 * closes such a connection when the peer's close_notify comes (Bun), writing after the peer's
 * end throws UnsupportedOnRuntime; elsewhere it works.
 */
const writeAfterPeerEnd = runtimeHas("tls-stream-half-close")
  ? true
  : {
      unsupported: "writing on a TLS socket over a JavaScript stream after the peer's close_notify",
    };

describeTwoWayStream(
  "Node backend: TLS over TCP (net.connect/listen with tls)",
  () =>
    run((env) =>
      pairIn(async (sw) => {
        await using listener = await env.net.listen("tcp:127.0.0.1:0", {
          sw,
          backlog: 1,
          tls: certs.server,
        });
        const [a, [b]] = await Promise.all([
          env.net.connect(listener.listeningAddr, { sw, tls: client }),
          listener.accept({ sw }),
        ]);
        await b.handshake?.();
        return [a, b] as const;
      }),
    ),
  { run: onRun },
);

describeTwoWayStream(
  "Node backend: TLS over TCP with strictClose on both ends",
  () =>
    run((env) =>
      pairIn(async (sw) => {
        await using listener = await env.net.listen("tcp:127.0.0.1:0", {
          sw,
          backlog: 1,
          tls: { ...certs.server, strictClose: true },
        });
        const [a, [b]] = await Promise.all([
          env.net.connect(listener.listeningAddr, { sw, tls: { ...client, strictClose: true } }),
          listener.accept({ sw }),
        ]);
        await b.handshake?.();
        return [a, b] as const;
      }),
    ),
  { run: onRun, writeAfterPeerEnd },
);

describeTwoWayStream(
  "Tls.client/Tls.server over plain TCP sockets (STARTTLS)",
  () =>
    run((env) =>
      pairIn(async (sw) => {
        await using listener = await env.net.listen("tcp:127.0.0.1:0", { sw, backlog: 1 });
        const [plainA, [plainB]] = await Promise.all([
          env.net.connect(listener.listeningAddr, { sw }),
          listener.accept({ sw }),
        ]);
        return await Fiber.pair(
          () => Tls.client(plainA, { ...client, sw }),
          () => Tls.server(plainB, { ...certs.server, sw }),
        );
      }),
    ),
  { run: onRun, writeAfterPeerEnd },
);

describeTwoWayStream(
  "Tls.client/Tls.server over Mock.Flow.pair",
  () =>
    pairIn(async (sw) => {
      const [a, b] = Mock.Flow.pair({ sw });
      return await Fiber.pair(
        () => Tls.client(a, { ...client, sw }),
        () => Tls.server(b, { ...certs.server, sw }),
      );
    }),
  { run: Mock.Backend.run, writeAfterPeerEnd },
);

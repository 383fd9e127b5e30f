/**
 * The Node backend's stream sockets pass the same two-way stream conformance suite as the mock:
 * TCP connections over IPv4 and IPv6 loopback, a Unix socket path, and a socketpair.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll } from "vitest";
import { Switch } from "../../src/core/index.ts";
import { runtimeHas } from "../../src/core/runtime.ts";
import type { SockaddrLike, StreamSocket } from "../../src/net/index.ts";
import { run } from "../../src/run.ts";
import { Unix } from "../../src/unix/index.ts";
import { describeTwoWayStream, type StreamPair } from "./stream-conformance.ts";

const dir = mkdtempSync(join(tmpdir(), "weir-conformance-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;

/**
 * Opens a pair in a switch that stays open until the pair is disposed (then the switch closes
 * both sockets, and the listener if any).
 */
async function pairIn(
  open: (sw: Switch) => Promise<readonly [StreamSocket, StreamSocket]>,
): Promise<StreamPair> {
  const { promise: done, resolve: release } = Promise.withResolvers<void>();
  const {
    promise: got,
    resolve: ready,
    reject,
  } = Promise.withResolvers<readonly [StreamSocket, StreamSocket]>();
  const scope = Switch.run(async (sw) => {
    ready(await open(sw));
    await done;
  });
  scope.catch(reject);
  const [a, b] = await got;
  return Object.assign([a, b] as const, {
    async [Symbol.asyncDispose]() {
      release();
      await scope;
    },
  });
}

/** A connected pair through a listener on `addr` (closed once the pair exists). */
function connected(addr: () => SockaddrLike): () => Promise<StreamPair> {
  return () =>
    run((env) =>
      pairIn(async (sw) => {
        await using listener = await env.net.listen(addr(), { sw, backlog: 1 });
        const [a, [b]] = await Promise.all([
          env.net.connect(listener.listeningAddr, { sw }),
          listener.accept({ sw }),
        ]);
        return [a, b] as const;
      }),
    );
}

const onRun = <T>(fn: () => Promise<T>): Promise<T> => run(() => fn());

describeTwoWayStream(
  "Node backend: TCP over 127.0.0.1",
  connected(() => "tcp:127.0.0.1:0"),
  {
    run: onRun,
  },
);
describeTwoWayStream(
  "Node backend: TCP over ::1",
  connected(() => "tcp:[::1]:0"),
  {
    run: onRun,
  },
);
describeTwoWayStream(
  "Node backend: a Unix socket path",
  connected(() => `unix:${join(dir, `s${n++}.sock`)}`),
  { run: onRun },
);
// On a runtime without stream sockets from fds (Bun), Unix.socketpairStream throws
// UnsupportedOnRuntime instead: test/runtimes/unsupported.test.ts.
if (runtimeHas("fd-stream")) {
  describeTwoWayStream(
    "Node backend: Unix.socketpairStream",
    () => pairIn(async (sw) => Unix.socketpairStream({ sw })),
    { run: onRun },
  );
}

/**
 * What a runtime lacks is a typed error, at once, never a silent degradation: on Bun (no stream
 * socket from an fd, no uv_poll_t through Node-API) the weir/unix features that need them throw
 * UnsupportedOnRuntime before taking the fd; on Node and Deno the same calls work. On Bun a TLS
 * socket over a JavaScript stream cannot write after the peer's close_notify (Bun closes the
 * connection then): such a write throws UnsupportedOnRuntime. Runs under
 * `npm test` (Node) and `npm run test:runtimes` (Bun, Deno).
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, test } from "vitest";
import { keepAliveApplier } from "../../src/backend-node/keep-alive.ts";
import { nodeNet } from "../../src/backend-node/node-net.ts";
import { Fiber, IoError, Switch } from "../../src/core/index.ts";
import {
  requirePrimitive,
  runtime,
  runtimeHas,
  UnsupportedOnRuntime,
} from "../../src/core/runtime.ts";
import { readAll } from "../../src/flow/flow-ops.ts";
import { run } from "../../src/run.ts";
import { Tls } from "../../src/tls/index.ts";
import { native, Unix } from "../../src/unix/index.ts";
import { certs } from "../tls/support.ts";

const dir = mkdtempSync(join(tmpdir(), "weir-runtimes-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const enc = new TextEncoder();

describe("the runtime", () => {
  test("is detected from process.versions", () => {
    const v = process.versions as Record<string, string | undefined>;
    const expected = v.bun !== undefined ? "bun" : v.deno !== undefined ? "deno" : "node";
    expect(runtime.name).toBe(expected);
    expect(runtime.version).toBe(v[expected]);
  });

  test("UnsupportedOnRuntime names the feature, the runtime and its version", () => {
    const bun = { name: "bun", version: "1.4.5" } as const;
    expect(runtimeHas("fd-stream", bun)).toBe(false);
    expect(runtimeHas("fd-stream", { name: "deno", version: "2.9.6" })).toBe(true);
    let err: unknown;
    try {
      requirePrimitive("Unix.pipe", "fd-stream", bun);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(UnsupportedOnRuntime);
    const u = err as UnsupportedOnRuntime;
    expect([u.name, u.code, u.runtime, u.feature]).toEqual([
      "UnsupportedOnRuntime",
      "WEIR_UNSUPPORTED_ON_RUNTIME",
      "bun",
      "Unix.pipe",
    ]);
    expect(u.message).toMatch(/^Unix\.pipe is not supported on bun 1\.4\.5: it needs a stream/);
    expect(() =>
      requirePrimitive("Unix.pipe", "fd-stream", { name: "node", version: "24" }),
    ).not.toThrow();
  });
});

describe(`weir/unix on ${runtime.name}`, () => {
  test("stream fds: socketpairStream, pipe and importSocketStream work, or throw UnsupportedOnRuntime without taking the fd", async () => {
    await Switch.run(async (sw) => {
      if (runtimeHas("fd-stream")) {
        const [a, b] = Unix.socketpairStream({ sw });
        await a.write([enc.encode("pair")]);
        await a.close();
        expect(await readAll(b, { maxSize: 16 })).toBe("pair");
        const [r, w] = Unix.pipe({ sw });
        await w.write([enc.encode("pipe")]);
        await w.close();
        expect(await readAll(r, { maxSize: 16 })).toBe("pipe");
        return;
      }
      expect(runtime.name).toBe("bun");
      expect(() => Unix.socketpairStream({ sw })).toThrow(UnsupportedOnRuntime);
      expect(() => Unix.pipe({ sw })).toThrow(UnsupportedOnRuntime);
      const [a, b] = native.socketpair("stream");
      try {
        expect(() => Unix.importSocketStream(a, { sw, closeUnix: true })).toThrow(
          /^Unix\.importSocketStream is not supported on bun /,
        );
        // not taken: still open, the caller's to close
        expect(native.fdType(a)).toBe("stream");
      } finally {
        native.close(a);
        native.close(b);
      }
    });
  });

  test("datagram fds: socketpairDatagram, importSocketDatagram and Unix datagram paths work, or throw UnsupportedOnRuntime", async () => {
    await Switch.run(async (sw) => {
      const path = `unix:${join(dir, "d.sock")}`;
      if (runtimeHas("uv-poll")) {
        const [x, y] = Unix.socketpairDatagram({ sw });
        await x.send([enc.encode("dgram")]);
        const buf = new Uint8Array(16);
        const [, n] = await y.recv(buf);
        expect(new TextDecoder().decode(buf.subarray(0, n))).toBe("dgram");
        const d = await nodeNet.datagramSocket(path, { sw });
        await d.close();
        return;
      }
      expect(runtime.name).toBe("bun");
      expect(() => Unix.socketpairDatagram({ sw })).toThrow(UnsupportedOnRuntime);
      const [a, b] = native.socketpair("dgram");
      try {
        expect(() => Unix.importSocketDatagram(a, { sw, closeUnix: true })).toThrow(
          UnsupportedOnRuntime,
        );
        expect(native.fdType(a)).toBe("dgram");
      } finally {
        native.close(a);
        native.close(b);
      }
      await expect(nodeNet.datagramSocket(path, { sw })).rejects.toThrow(
        /^a Unix datagram socket .* is not supported on bun /,
      );
    });
  });
});

describe(`socket fds on ${runtime.name}`, () => {
  test("Unix.fd of a TCP listener and keepAlive interval/count work, or throw UnsupportedOnRuntime", async () => {
    await Switch.run(async (sw) => {
      const server = await nodeNet.listen("tcp:127.0.0.1:0", { sw, backlog: 1 });
      const ka = { idle: 10_000, interval: 2_000, count: 3 };
      if (runtimeHas("socket-fd")) {
        expect(Unix.fd(server)).toBeGreaterThan(2);
        expect(typeof (await keepAliveApplier(ka))).toBe("function");
      } else {
        expect(runtime.name).toBe("deno");
        expect(() => Unix.fd(server)).toThrow(
          /^Unix\.fd of a node:net socket is not supported on deno /,
        );
        expect(() => Unix.fdOpt(server)).toThrow(UnsupportedOnRuntime);
        await expect(keepAliveApplier(ka)).rejects.toThrow(
          /^keepAlive interval\/count is not supported on deno /,
        );
      }
      await server.close();
    });
  });
});

describe(`TLS over a JavaScript stream on ${runtime.name}`, () => {
  test("a write after the peer's close_notify works, or throws UnsupportedOnRuntime and the peer reads the end", async () => {
    await run(() =>
      Switch.run(async (sw) => {
        const l = await nodeNet.listen("tcp:127.0.0.1:0", { sw, backlog: 1 });
        const [plainA, [plainB]] = await Promise.all([
          nodeNet.connect(l.listeningAddr, { sw }),
          l.accept({ sw }),
        ]);
        const [a, b] = await Fiber.pair(
          () => Tls.client(plainA, { ca: certs.ca, serverName: "localhost", sw }),
          () => Tls.server(plainB, { ...certs.server, sw }),
        );
        await a.write([enc.encode("bye")]);
        await a.shutdown("send");
        expect(await readAll(b, { maxSize: 16 })).toBe("bye");
        const wrote = b.write([enc.encode("reply")]);
        if (runtimeHas("tls-stream-half-close")) {
          await wrote;
          await b.shutdown("send");
          expect(await readAll(a, { maxSize: 16 })).toBe("reply");
        } else {
          expect(runtime.name).toBe("bun");
          await expect(wrote).rejects.toThrow(
            /^writing on a TLS socket over a JavaScript stream after the peer's close_notify is not supported on bun /,
          );
          // Bun sent its own close_notify: the peer reads the end (or a reset), nothing else
          const rest = await readAll(a, { maxSize: 16 }).catch((e: unknown) => e);
          if (rest instanceof IoError) expect(rest.err.kind).toBe("ConnectionReset");
          else expect(rest).toBe("");
        }
        await l.close();
      }),
    );
  });
});

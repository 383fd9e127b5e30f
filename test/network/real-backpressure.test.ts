/**
 * Backpressure on real sockets: a writer whose peer does not read blocks (Node buffers at most
 * one write), a socket nobody reads from reads nothing from the kernel (the sender's buffers
 * fill), reads ahead at most a chunk, and a copy between two sockets holds a bounded amount.
 */

import { describe, expect, test } from "vitest";
import { EndOfFile, Fiber, IoError, Switch } from "../../src/core/index.ts";
import { runtime } from "../../src/core/runtime.ts";
import { copy } from "../../src/flow/flow-ops.ts";
import type { StreamSocket } from "../../src/net/types.ts";
import { run } from "../../src/run.ts";
import { rawOf, sleep, socketPair, until } from "./real-support.ts";

const CHUNK = 64 * 1024;
/**
 * The most one read of the runtime returns: Node's 64 KiB; Bun's sockets receive into a 512 KiB
 * buffer (uSockets), so it reads and passes on that much at a time. The bounds below are in
 * these units.
 */
const READ = runtime.name === "bun" ? 512 * 1024 : CHUNK;
const TOTAL = 32 * 1024 * 1024; // far more than loopback's socket buffers

/** Waits until `progress()` has not changed for `quietMs` and `blocked()` holds. */
async function stalled(progress: () => number, blocked: () => boolean, quietMs = 100) {
  let last = -1;
  let since = Date.now();
  await until(
    () => {
      const now = progress();
      if (now !== last || !blocked()) {
        last = now;
        since = Date.now();
        return false;
      }
      return Date.now() - since >= quietMs;
    },
    "the writer to stall",
    10_000,
  );
}

/** Reads `flow` to its end, counting bytes. */
async function drain(flow: StreamSocket): Promise<number> {
  const buf = new Uint8Array(CHUNK);
  let n = 0;
  for (;;) {
    try {
      n += await flow.readInto(buf);
    } catch (e) {
      if (e instanceof EndOfFile) return n;
      throw e;
    }
  }
}

describe("backpressure", () => {
  test("a writer whose peer does not read blocks, with at most one write held by Node", async () => {
    await run(() =>
      Switch.run(async (sw) => {
        const { client, server } = await socketPair(sw);
        const chunk = new Uint8Array(CHUNK).fill(7);
        let written = 0;
        let done = false;
        sw.fork(async () => {
          while (written < TOTAL) {
            await client.write([chunk]);
            written += CHUNK;
          }
          await client.shutdown("send");
          done = true;
        });
        // The kernel's buffers fill up, then a write has to wait in Node's buffer
        await until(() => rawOf(client).writableLength > 0, "the writer to block");
        const stuckAt = written;
        await sleep(50);
        expect(written).toBe(stuckAt);
        expect(done).toBe(false);
        expect(written).toBeLessThan(TOTAL / 2);
        expect(rawOf(client).writableLength).toBeLessThanOrEqual(CHUNK);
        // Pull-based reads: the server side has read nothing from its kernel buffer
        expect(rawOf(server).bytesRead).toBe(0);
        // Reading releases the writer, and everything arrives
        expect(await drain(server)).toBe(TOTAL);
        expect(done).toBe(true);
      }),
    );
  });

  test("a reader reads ahead at most about one chunk beyond what it asked for", async () => {
    await run(() =>
      Switch.run(async (sw) => {
        const { client, server } = await socketPair(sw);
        const chunk = new Uint8Array(CHUNK);
        let written = 0;
        sw.fork(async () => {
          try {
            while (written < TOTAL) {
              await client.write([chunk]);
              written += CHUNK;
            }
          } catch (e) {
            // closing the reader below resets the connection
            if (!(e instanceof IoError)) throw e;
          }
        });
        await stalled(
          () => written,
          () => rawOf(client).writableLength > 0,
        );
        const one = new Uint8Array(1);
        expect(await server.readInto(one)).toBe(1);
        await sleep(50);
        // our one-chunk stash, plus what Node buffers below its 64 KiB high-water mark (one
        // read of the runtime beyond it)
        expect(rawOf(server).bytesRead).toBeLessThanOrEqual(2 * CHUNK + READ);
        await server.close();
        await client.close();
      }),
    );
  });

  test("a copy between sockets pauses its source while the sink's peer does not read", async () => {
    await run(() =>
      Switch.run(async (sw) => {
        const front = await socketPair(sw); // producer -> proxy
        const back = await socketPair(sw); // proxy -> consumer
        const chunk = new Uint8Array(CHUNK).fill(1);
        let written = 0;
        await Fiber.both(
          async () => {
            await copy(front.server, back.client);
            await back.client.shutdown("send");
          },
          async () => {
            await Fiber.both(
              async () => {
                while (written < TOTAL) {
                  await front.client.write([chunk]);
                  written += CHUNK;
                }
                await front.client.shutdown("send");
              },
              async () => {
                await stalled(
                  () => written,
                  () => rawOf(front.client).writableLength > 0,
                );
                expect(written).toBeLessThan(TOTAL / 2);
                // The proxy holds a bounded amount: Node's write buffer (high-water mark plus a
                // chunk) and its read buffer
                expect(rawOf(back.client).writableLength).toBeLessThanOrEqual(2 * CHUNK + READ);
                expect(rawOf(front.server).readableLength).toBeLessThanOrEqual(CHUNK + READ);
                expect(await drain(back.server)).toBe(TOTAL);
              },
            );
          },
        );
      }),
    );
  });
});

/**
 * `Flow.copy` between sockets sends a turn's first chunk at once and the turn's other small
 * chunks together at its end (`core/turn-end.ts`): on real sockets, with many clients whose
 * bytes arrive in the same turns, every byte still comes back in order, and a client's end of
 * file ends its copy only once what waited for the turn's end has gone out.
 */
import { describe, expect, test } from "vitest";
import { Fiber, Switch } from "../../src/core/index.ts";
import { claimTurn } from "../../src/core/turn-end.ts";
import { copy, readAllBytes } from "../../src/flow/flow-ops.ts";
import { runServer } from "../../src/net/run-server.ts";
import { run } from "../../src/run.ts";
import { bytes, deferred, net, readAllText, sleep, text } from "./real-support.ts";

describe("Flow.copy's sends at the end of the turn, on real sockets", () => {
  test("32 clients writing 40 small pieces each at once, then ending: each gets its bytes back in order, then end of file", async () => {
    const clients = 32;
    const pieces = 40;
    const got = await run(() =>
      Switch.run(async (sw) => {
        const l = await net.listen("tcp:127.0.0.1:0", { sw, backlog: 64 });
        const stop = deferred<void>();
        const [, replies] = await Fiber.pair(
          () =>
            runServer(l, (flow) => copy(flow, flow), {
              onError: (e) => {
                throw e;
              },
              stop: stop.promise,
            }),
          async () => {
            try {
              // All connected and their copies running first (one byte there and back), so
              // that their bytes come in the same turns
              const socks = await Promise.all(
                Array.from({ length: clients }, async () => {
                  const c = await net.connect(l.listeningAddr, { sw });
                  await c.write([bytes("!")]);
                  await c.readInto(new Uint8Array(1));
                  return c;
                }),
              );
              return await Promise.all(
                socks.map(async (c, i) => {
                  try {
                    // No waiting between the pieces, nor before the end
                    const writes = Array.from({ length: pieces }, (_, k) =>
                      c.write([bytes(`<${i}.${k}>`)]),
                    );
                    await Promise.all(writes);
                    await c.shutdown("send");
                    return await readAllText(c);
                  } finally {
                    await c.close();
                  }
                }),
              );
            } finally {
              stop.resolve();
            }
          },
        );
        return replies;
      }),
    );
    expect(got).toEqual(
      Array.from({ length: clients }, (_, i) =>
        Array.from({ length: pieces }, (_, k) => `<${i}.${k}>`).join(""),
      ),
    );
  });

  test("a copy started with the source's rest and its end already in: the rest, held for the turn's end, still goes out before the copy ends", async () => {
    const got = await run(() =>
      Switch.run(async (sw) => {
        const l = await net.listen("tcp:127.0.0.1:0", { sw });
        const [, reply] = await Fiber.pair(
          async () => {
            const [flow] = await l.accept({ sw });
            const first = new Uint8Array(1);
            await flow.readInto(first); // "h"; "ello" stays with the socket
            await sleep(50); // and the peer's end comes in meanwhile
            claimTurn(); // this turn's first send is taken: the copy's first chunk waits
            await copy(flow, flow);
            await flow.close();
            return text(first);
          },
          async () => {
            const c = await net.connect(l.listeningAddr, { sw });
            await c.write([bytes("hello")]);
            await c.shutdown("send");
            const r = await readAllText(c);
            await c.close();
            return r;
          },
        );
        return reply;
      }),
    );
    expect(got).toBe("ello");
  });

  test("a stream of 8 MiB through a copy: the turn's chunks after its first are held (at most 256 KiB) and all come back in order", async () => {
    const size = 8 << 20;
    const data = new Uint8Array(size);
    for (let i = 0; i < size; i++) data[i] = (i * 7 + (i >> 11)) & 0xff;
    const got = await run(() =>
      Switch.run(async (sw) => {
        const l = await net.listen("tcp:127.0.0.1:0", { sw });
        const [, back] = await Fiber.pair(
          async () => {
            const [flow] = await l.accept({ sw });
            await copy(flow, flow);
            await flow.close();
          },
          async () => {
            const c = await net.connect(l.listeningAddr, { sw });
            const [, all] = await Fiber.pair(
              async () => {
                await c.write([data]);
                await c.shutdown("send");
              },
              () => readAllBytes(c, { maxSize: size }),
            );
            await c.close();
            return all;
          },
        );
        return back;
      }),
    );
    expect(got.length).toBe(size);
    expect(Buffer.compare(got, data)).toBe(0);
  });
});

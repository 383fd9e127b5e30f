/**
 * `close()` of a TLS socket sends close_notify first, on every runtime: a peer with
 * `strictClose` reads a clean end of file, not a cut connection. (Deno sends the close_notify
 * of a TLS socket over a JavaScript stream a turn after `end()`: weir's `close()` waits for it
 * there; see docs/runtimes.md.)
 */
import { describe, expect, test } from "vitest";
import { nodeNet } from "../../src/backend-node/node-net.ts";
import { EndOfFile, Fiber, Switch } from "../../src/core/index.ts";
import { runtime } from "../../src/core/runtime.ts";
import { run } from "../../src/run.ts";
import { certs } from "../tls/support.ts";

const enc = new TextEncoder();

describe(`close() of a TLS socket on ${runtime.name}`, () => {
  for (const serverStrict of [false, true]) {
    test(`the strictClose client reads the data, then a clean end (server strictClose: ${serverStrict})`, async () => {
      await run(() =>
        Switch.run(async (sw) => {
          const l = await nodeNet.listen("tcp:127.0.0.1:0", {
            sw,
            backlog: 1,
            tls: { ...certs.server, strictClose: serverStrict },
          });
          const [c, [s]] = await Fiber.pair(
            () =>
              nodeNet.connect(l.listeningAddr, {
                sw,
                tls: { ca: certs.ca, serverName: "localhost", strictClose: true },
              }),
            () => l.accept({ sw }),
          );
          await s.handshake?.();
          await s.write([enc.encode("last")]);
          await s.close();
          const buf = new Uint8Array(16);
          const n = await c.readInto(buf);
          expect(new TextDecoder().decode(buf.subarray(0, n))).toBe("last");
          await expect(c.readInto(buf)).rejects.toBeInstanceOf(EndOfFile);
          await l.close();
        }),
      );
    });
  }
});

/**
 * Small scenarios the simulation's tests share: an echo host and a client that talks to it.
 */
import { Switch } from "../../core/index.ts";
import { Flow } from "../../flow/index.ts";
import type { SimEnv } from "../types.ts";

const encoder = new TextEncoder();

/** Serves an echo on `port` (each connection copied back until end-of-file); `strict`: a failed connection fails the host. */
export async function echoHost(env: SimEnv, port = 7, strict = true): Promise<void> {
  await Switch.run(async (sw) => {
    const l = await env.net.listen(`tcp:0.0.0.0:${port}`, { sw, backlog: 16 });
    for (;;) {
      await l.acceptFork(
        {
          sw,
          onError: (e) => {
            if (strict) throw e;
          },
        },
        (flow) => Flow.copy(flow, flow),
      );
    }
  });
}

/** Sends `text` to `host`'s echo, half-closes, and returns what came back. */
export async function echoOnce(env: SimEnv, host: string, text: string, port = 7): Promise<string> {
  return Switch.run(async (sw) => {
    const s = await env.net.connect(`tcp:${host}:${port}`, { sw });
    await s.write([encoder.encode(text)]);
    await s.shutdown("send");
    return Flow.readAll(s, { maxSize: 1 << 20 });
  });
}

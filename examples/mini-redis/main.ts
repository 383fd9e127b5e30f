/**
 * mini-redis on the real network: `npm run example:mini-redis -- [PORT]` (default 6380; 0: a port
 * the OS chooses), then `redis-cli -p 6380`. Ctrl-C stops it.
 * @module
 */
import { main } from "../main.ts";
import { serve } from "./server.ts";

await main("mini-redis", 6380, (listener, env, stop) =>
  serve(listener, { clock: env.monoClock, stop }),
);

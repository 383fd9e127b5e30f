/**
 * The HTTP example on the real network: `npm run example:http -- [PORT]` (default 8080; 0: a
 * port the OS chooses), then `curl http://127.0.0.1:8080/`. Ctrl-C stops it.
 * @module
 */
import { main } from "../main.ts";
import { serve } from "./server.ts";

await main("http", 8080, (listener, env, stop) =>
  serve(listener, { clock: env.clock, monoClock: env.monoClock, stop }),
);

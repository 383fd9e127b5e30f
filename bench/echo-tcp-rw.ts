/**
 * An echo server on weir's Async-style API with a reader and a writer — `Tcp.Server.create`,
 * `reader.readChunk()` and `writer.schedule()` (Async's `read_one_chunk_at_a_time` and
 * `schedule_bigstring`: no copy), pushing back when the peer is slow — for the shared load
 * tools (`/work/shared/bench/run.sh`, `ratio.sh`). Prints `LISTENING <port>` once it accepts.
 *
 * Usage: `node bench/echo-tcp-rw.ts [PORT [HOST]]` (PORT 0, the default, picks a free port).
 * @module
 */
import { run } from "../src/run.ts";
import { Tcp } from "../src/tcp/index.ts";

const port = Number(process.argv[2] ?? 0);
const host = process.argv[3] ?? "127.0.0.1";
/** Wait for the writer to drain beyond this much unflushed data. */
const PUSHBACK = 1 << 20;

await run(async (env) => {
  const server = await Tcp.Server.create(
    Tcp.WhereToListen.onPort(port, { host }),
    async (_addr, reader, writer) => {
      for (let c = await reader.readChunk(); c !== null; c = await reader.readChunk()) {
        writer.schedule(c);
        if (writer.bytesToWrite > PUSHBACK) await writer.flushed();
      }
    },
    { net: env.net, onHandlerError: "ignore", backlog: 4096 },
  );
  process.stdout.write(`LISTENING ${server.listeningOn}\n`);
});

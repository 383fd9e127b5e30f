/**
 * An echo server on weir's Async-style API written the plain way a new user writes it —
 * `Tcp.Server.create`, `reader.read(buf)`, `writer.write(bytes)`, `await writer.flushed()` —
 * for the shared load tools (`ratio.sh`). Prints `LISTENING <port>` once it accepts.
 *
 * Usage: `node bench/echo-tcp-plain.ts [PORT [HOST]]` (PORT 0, the default, picks a free port).
 * @module
 */
import { Tcp } from "../src/index.ts";

const port = Number(process.argv[2] ?? 0);
const host = process.argv[3] ?? "127.0.0.1";

// No run(), no net option: Tcp works anywhere, as Async's does
const server = await Tcp.Server.create(
  Tcp.WhereToListen.onPort(port, { host }),
  async (_addr, reader, writer) => {
    const buf = new Uint8Array(16 * 1024);
    for (let n = await reader.read(buf); n !== null; n = await reader.read(buf)) {
      writer.write(buf.subarray(0, n));
      await writer.flushed();
    }
  },
  { onHandlerError: "ignore" },
);
process.stdout.write(`LISTENING ${server.listeningOn}\n`);

/**
 * The peer mini-redis is measured against: the same protocol, parser and commands
 * (examples/mini-redis/resp.ts, commands.ts, db.ts) on raw `node:net`, written as well as we
 * can: every request of a 'data' event answered, the replies collected in one latin1 string (the
 * bytes as they are) and sent with one `socket.write` at the end of the event loop's turn (the
 * replies to all the clients served in a turn go out back to back: measured, 1.05x SET and 1.09x
 * GET over writing at the end of each 'data' event), pausing while the socket is over its
 * high-water mark. Usage: node bench/mini-redis-node-net.ts [PORT]; prints `listening on
 * tcp:127.0.0.1:PORT`.
 */
import net from "node:net";
import { Session, type SessionSink } from "../examples/mini-redis/commands.ts";
import { Broker, Db } from "../examples/mini-redis/db.ts";
import {
  DEFAULT_LIMITS,
  ProtocolError,
  parseRequest,
  Request,
} from "../examples/mini-redis/resp.ts";

const db = new Db({ now: () => performance.now() });
const broker = new Broker();
const limits = DEFAULT_LIMITS;

/** Replies for one socket, collected as one latin1 string. */
class Out implements SessionSink {
  text = "";
  readonly #socket: net.Socket;
  constructor(socket: net.Socket) {
    this.#socket = socket;
  }
  string(s: string): void {
    this.text += s;
  }
  bytes(b: Uint8Array): void {
    this.text += Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString("latin1");
  }
  get pendingBytes(): number {
    return this.#socket.writableLength + this.text.length;
  }
  #due = false;
  /** Flushes at the end of this turn of the event loop. */
  later(): void {
    if (this.#due) return;
    this.#due = true;
    setImmediate(() => {
      this.#due = false;
      this.flush();
    });
  }
  flush(): void {
    if (this.text.length === 0) return;
    const ok = this.#socket.write(this.text, "latin1");
    this.text = "";
    if (!ok) {
      this.#socket.pause();
      this.#socket.once("drain", () => this.#socket.resume());
    }
  }
}

const server = net.createServer({ noDelay: true }, (socket) => {
  const out = new Out(socket);
  const session = new Session(db, broker, out, 8 << 20, () => socket.destroy());
  const req = new Request();
  let pending: Buffer | null = null;
  socket.on("error", () => {});
  socket.on("close", () => session.close());
  socket.on("data", (chunk: Buffer) => {
    const buf: Buffer = pending === null ? chunk : Buffer.concat([pending, chunk]);
    let used = 0;
    try {
      for (;;) {
        const n = parseRequest(buf, used, buf.length, req, limits);
        if (n === 0) break;
        used += n;
        if (session.execute(req) === "quit") {
          out.flush();
          socket.end();
          return;
        }
      }
    } catch (e) {
      if (!(e instanceof ProtocolError)) throw e;
      out.string(`-ERR Protocol error: ${e.message}\r\n`);
      out.flush();
      socket.end();
      return;
    }
    if (buf.length - used > limits.maxRequest) socket.destroy();
    pending = used === buf.length ? null : buf.subarray(used);
    out.later();
  });
});

server.listen(Number(process.argv[2] ?? 0), "127.0.0.1", () => {
  const { port } = server.address() as net.AddressInfo;
  process.stdout.write(`listening on tcp:127.0.0.1:${port}\n`);
});
process.once("SIGINT", () => process.exit(0));
process.once("SIGTERM", () => process.exit(0));

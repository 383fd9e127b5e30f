/**
 * The commands of mini-redis, one {@link Session} per connection: each parsed request is
 * executed at once and its reply written to the connection's {@link ReplySink}. Pure code, shared
 * with the node:net peer in `bench/`.
 * @module
 */
import type { Broker, Db, Subscriber } from "./db.ts";
import { Reply, type ReplySink, type Request } from "./resp.ts";

/** What a request asks of the connection after its reply. */
export type After = "continue" | "quit";

/** The largest EX/PX/EXPIRE time accepted, in ms (about 30 years), as an overflow guard. */
const MAX_TTL_MS = 1e12;

/** Where a session's replies and messages go (a weir `BufWriter` is one). */
export interface SessionSink extends ReplySink {
  /** Bytes queued and not yet written: a subscriber past `maxSubscriberBuffer` is dropped. */
  readonly pendingBytes: number;
}

/** One client's state: its subscriptions. */
export class Session implements Subscriber {
  readonly #db: Db;
  readonly #broker: Broker;
  readonly #out: SessionSink;
  readonly #maxSubscriberBuffer: number;
  readonly #kick: () => void;
  readonly #channels = new Set<string>();

  /** `kick` ends the connection at once (a subscriber that does not keep up), from any fiber. */
  constructor(
    db: Db,
    broker: Broker,
    out: SessionSink,
    maxSubscriberBuffer: number,
    kick: () => void,
  ) {
    this.#db = db;
    this.#broker = broker;
    this.#out = out;
    this.#maxSubscriberBuffer = maxSubscriberBuffer;
    this.#kick = kick;
  }

  /** Whether the client is in subscribed mode (it may then only (un)subscribe, ping or quit). */
  get subscribed(): boolean {
    return this.#channels.size > 0;
  }

  /** {@link Subscriber.deliver}: a `message` push, or a kick if the client is too far behind. */
  deliver(channel: string, message: Buffer): void {
    const out = this.#out;
    if (out.pendingBytes > this.#maxSubscriberBuffer) {
      this.close();
      this.#kick();
      return;
    }
    Reply.array(out, 3);
    Reply.bulkText(out, "message");
    Reply.bulkText(out, channel);
    Reply.bulk(out, message);
  }

  /** Leaves every channel (when the connection ends). */
  close(): void {
    for (const c of this.#channels) this.#broker.unsubscribe(c, this);
    this.#channels.clear();
  }

  /** Executes `req` and writes its reply. */
  execute(req: Request): After {
    const out = this.#out;
    if (req.argc === 0) return "continue";
    const name = req.str(0);
    // Clients send upper case (redis-cli, redis-benchmark): look that up before converting.
    const cmd = ARITY.has(name) || name.length > 12 ? name : name.toUpperCase();
    if (this.subscribed && !SUBSCRIBED_OK.has(cmd)) {
      Reply.error(
        out,
        `ERR Can't execute '${cmd.toLowerCase()}': only (UN)SUBSCRIBE / PING / QUIT are allowed in this context`,
      );
      return "continue";
    }
    const arity = ARITY.get(cmd);
    if (arity === undefined) {
      Reply.error(out, `ERR unknown command '${name.slice(0, 64)}'`);
      return "continue";
    }
    if (arity >= 0 ? req.argc !== arity : req.argc < -arity) {
      Reply.error(out, `ERR wrong number of arguments for '${cmd.toLowerCase()}' command`);
      return "continue";
    }
    const db = this.#db;
    switch (cmd) {
      case "GET": {
        const v = db.get(req.str(1));
        if (v === undefined) Reply.nil(out);
        else Reply.bulk(out, v);
        break;
      }
      case "SET":
        this.#set(req);
        break;
      case "PING":
        if (this.subscribed) {
          Reply.array(out, 2);
          Reply.bulkText(out, "pong");
          Reply.bulkText(out, req.argc > 1 ? req.str(1) : "");
        } else if (req.argc === 1) Reply.simple(out, "PONG");
        else if (req.argc === 2) Reply.bulk(out, req.bytes(1));
        else Reply.error(out, "ERR wrong number of arguments for 'ping' command");
        break;
      case "ECHO":
        Reply.bulk(out, req.bytes(1));
        break;
      case "DEL": {
        let n = 0;
        for (let i = 1; i < req.argc; i++) if (db.delete(req.str(i))) n++;
        Reply.int(out, n);
        break;
      }
      case "INCR": {
        const r = db.incr(req.str(1));
        if (r === "NaN") Reply.error(out, "ERR value is not an integer or out of range");
        else if (r === "full") Reply.error(out, "OOM maxKeys reached");
        else Reply.int(out, r);
        break;
      }
      case "EXPIRE": {
        const s = req.int(2);
        if (s === undefined || s * 1000 > MAX_TTL_MS) {
          Reply.error(out, "ERR value is not an integer or out of range");
        } else Reply.int(out, db.expire(req.str(1), s * 1000) ? 1 : 0);
        break;
      }
      case "TTL": {
        const ms = db.ttlMs(req.str(1));
        Reply.int(out, ms < 0 ? ms : Math.ceil(ms / 1000));
        break;
      }
      case "PTTL":
        Reply.int(out, db.ttlMs(req.str(1)));
        break;
      case "PUBLISH":
        Reply.int(out, this.#broker.publish(req.str(1), req.bytes(2)));
        break;
      case "SUBSCRIBE":
        for (let i = 1; i < req.argc; i++) {
          const c = req.str(i);
          this.#channels.add(c);
          this.#broker.subscribe(c, this);
          this.#ack("subscribe", c);
        }
        break;
      case "UNSUBSCRIBE": {
        const list = req.argc > 1 ? range(req, 1) : [...this.#channels];
        if (list.length === 0) this.#ack("unsubscribe", null);
        for (const c of list) {
          this.#channels.delete(c);
          this.#broker.unsubscribe(c, this);
          this.#ack("unsubscribe", c);
        }
        break;
      }
      case "QUIT":
        Reply.simple(out, "OK");
        return "quit";
      case "COMMAND":
        // redis-cli asks for the command docs when it starts; none is a fine answer
        Reply.array(out, 0);
        break;
      case "CONFIG": {
        // redis-benchmark reads these two settings when it starts: no persistence here
        const param = req.argc === 3 && req.str(1).toUpperCase() === "GET" ? req.str(2) : "";
        const value = CONFIG.get(param.toLowerCase());
        if (value === undefined) Reply.array(out, 0);
        else {
          Reply.array(out, 2);
          Reply.bulkText(out, param.toLowerCase());
          Reply.bulkText(out, value);
        }
        break;
      }
    }
    return "continue";
  }

  #ack(kind: string, channel: string | null): void {
    const out = this.#out;
    Reply.array(out, 3);
    Reply.bulkText(out, kind);
    if (channel === null) Reply.nil(out);
    else Reply.bulkText(out, channel);
    Reply.int(out, this.#channels.size);
  }

  /** `SET key value [EX seconds | PX ms]`. */
  #set(req: Request): void {
    const out = this.#out;
    let ttl = Infinity;
    if (req.argc !== 3) {
      const opt = req.argc === 5 ? req.str(3).toUpperCase() : "";
      const n = req.int(4);
      if (opt !== "EX" && opt !== "PX") {
        Reply.error(out, "ERR syntax error");
        return;
      }
      const ms = n === undefined ? NaN : opt === "EX" ? n * 1000 : n;
      if (!(ms > 0) || ms > MAX_TTL_MS) {
        Reply.error(out, "ERR invalid expire time in 'set' command");
        return;
      }
      ttl = ms;
    }
    if (this.#db.set(req.str(1), req.bytes(2), ttl)) Reply.simple(out, "OK");
    else Reply.error(out, "OOM maxKeys reached");
  }
}

function range(req: Request, from: number): string[] {
  const r: string[] = [];
  for (let i = from; i < req.argc; i++) r.push(req.str(i));
  return r;
}

/** Each command's argument count, the name included (negative: at least that many). */
const ARITY = new Map<string, number>([
  ["GET", 2],
  ["SET", -3],
  ["PING", -1],
  ["ECHO", 2],
  ["DEL", -2],
  ["INCR", 2],
  ["EXPIRE", 3],
  ["TTL", 2],
  ["PTTL", 2],
  ["PUBLISH", 3],
  ["SUBSCRIBE", -2],
  ["UNSUBSCRIBE", -1],
  ["QUIT", 1],
  ["COMMAND", -1],
  ["CONFIG", -1],
]);

const CONFIG = new Map([
  ["save", ""],
  ["appendonly", "no"],
]);

const SUBSCRIBED_OK = new Set(["SUBSCRIBE", "UNSUBSCRIBE", "PING", "QUIT"]);

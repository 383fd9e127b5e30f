/**
 * The load of `weir bench`, written on weir: one fiber per connection (or per connrate
 * worker) in a switch, each running request after request against an echo server and
 * checking every echoed byte. {@link BenchStats} counts what happens in the measured window.
 * @module
 */
import { randomFillSync } from "node:crypto";
import { type Clock, EndOfFile, IoError, Switch, suspend } from "../core/index.ts";
import { Flow } from "../flow/index.ts";
import type { Net, StreamAddr, StreamSocket, TlsConnectOptions } from "../net/index.ts";
import { Histogram } from "./histogram.ts";

/** The load patterns of `weir bench`. */
export type BenchMode = "pingpong" | "stream" | "connrate";

/** The phases of a run: requests are counted only if they start while measuring. */
export type BenchPhase = "warmup" | "measure" | "done";

/**
 * The counts of a bench run. A request (a message in pingpong, a chunk in stream, a
 * connection in connrate) counts if it starts in the measured window; it is then counted once
 * when sent and once when answered, with its latency, so at the end `sent === answered ===
 * latency.count` (the load drains: nothing is left in flight).
 */
export class BenchStats {
  /** The current phase. */
  phase: BenchPhase = "warmup";
  /** Measured requests started. */
  sent = 0;
  /** Measured requests whose answer came back (and was checked). */
  answered = 0;
  /** The latency of every answered measured request, in ns. */
  readonly latency = new Histogram();
  /** The latency of the requests answered since the last progress line, in ns (any phase). */
  readonly interval = new Histogram();
  /** Bumped on every answer or chunk received, in any phase (for stall detection). */
  progress = 0;
  /** When measuring started (clock ms). */
  measureStart = 0;
  /** When measuring stopped: no request started after this (clock ms). */
  measureEnd = 0;
  /** When the last measured request was answered (clock ms). */
  lastAnswer = 0;
  readonly #clock: Clock;

  constructor(clock: Clock) {
    this.#clock = clock;
  }

  /** Starts the measured window. */
  startMeasuring(): void {
    this.phase = "measure";
    this.measured = true;
    this.measureStart = this.#clock.now();
    this.lastAnswer = this.measureStart;
  }

  /** Whether a measured window began (false if the run was stopped during the warm-up). */
  measured = false;

  /** Ends the measured window: the load finishes what is in flight and stops. */
  stop(): void {
    if (this.phase === "done") return;
    if (this.phase === "warmup") {
      // stopped before measuring: nothing counts, not even what is in flight
      this.phase = "done";
      this.measureStart = this.measureEnd = this.lastAnswer = this.#clock.now();
      return;
    }
    this.phase = "done";
    this.measureEnd = this.#clock.now();
  }

  /** Records an answer to a request that started at `start` (clock ms), if it was measured. */
  answer(start: number, counted: boolean): void {
    const now = this.#clock.now();
    const ns = (now - start) * 1e6;
    this.progress++;
    this.interval.record(ns);
    if (!counted) return;
    this.answered++;
    this.latency.record(ns);
    this.lastAnswer = now;
  }

  /** The measured time in ms: from the start of measuring to the last answer (or the end). */
  get elapsedMs(): number {
    return Math.max(this.measureEnd, this.lastAnswer) - this.measureStart;
  }
}

/** What every load needs. */
export interface LoadOptions {
  /** The network to connect with. */
  readonly net: Net;
  /** The clock for latencies and time limits. */
  readonly clock: Clock;
  /** The echo server. */
  readonly target: StreamAddr;
  /** The message or chunk size in bytes. */
  readonly size: number;
  /** Whether to check every echoed byte. */
  readonly verify: boolean;
  /** Stream mode: the most bytes in flight (sent, not yet echoed) per connection. */
  readonly window: number;
  /** The counts. */
  readonly stats: BenchStats;
  /** Connect with TLS (connrate then measures full handshakes). */
  readonly tls?: TlsConnectOptions | undefined;
}

/** The echo server answered something other than what was sent. */
export class EchoMismatch extends Error {
  constructor(message: string) {
    super(message);
    this.name = "EchoMismatch";
  }
}

/** Random bytes, different for each connection, so a reply sent to the wrong one shows. */
function payload(size: number): Buffer {
  const b = Buffer.allocUnsafe(size);
  randomFillSync(b);
  return b;
}

/** `EndOfFile` from a connection the server closed, as an error that says so. */
function explainEof(e: unknown, id: number, what: string): unknown {
  if (e instanceof EndOfFile) {
    return new IoError({ kind: "ConnectionReset", cause: "the server closed the connection" }, [
      `waiting for the echo of ${what} on connection ${id}`,
    ]);
  }
  if (e instanceof IoError) e.addContext(`benchmark connection ${id}`);
  return e;
}

/**
 * Pingpong on `conn`: send `size` bytes, wait for them to come back, again, until the phase is
 * `done` (the request in flight then finishes).
 * @throws EchoMismatch if an echo differs; IoError if the connection fails or ends.
 */
export async function pingpong(conn: StreamSocket, id: number, o: LoadOptions): Promise<void> {
  const { stats, clock } = o;
  const msg = payload(o.size);
  const reply = Buffer.allocUnsafe(o.size);
  let seq = 0;
  while (stats.phase !== "done") {
    const counted = stats.phase === "measure";
    // a sequence number in each message: a stale or repeated echo does not pass the check
    if (o.size >= 4) msg.writeUInt32LE(seq >>> 0, 0);
    seq++;
    if (counted) stats.sent++;
    const t = clock.now();
    try {
      await conn.write([msg]);
      await Flow.readExact(conn, reply);
    } catch (e) {
      throw explainEof(e, id, `message ${seq}`);
    }
    if (o.verify && !reply.equals(msg)) {
      throw new EchoMismatch(`connection ${id}: the echo of message ${seq} differs from it`);
    }
    stats.answer(t, counted);
  }
}

/**
 * Connection rate: connect, send `size` bytes, read them back, close; again, until the phase
 * is `done`. The latency covers connect and round trip.
 * @throws EchoMismatch; IoError if a connection fails.
 */
export async function connrate(id: number, o: LoadOptions): Promise<void> {
  const { stats, clock } = o;
  const msg = payload(o.size);
  const reply = Buffer.allocUnsafe(o.size);
  let seq = 0;
  while (stats.phase !== "done") {
    const counted = stats.phase === "measure";
    seq++;
    if (counted) stats.sent++;
    const t = clock.now();
    try {
      await Switch.run(async (sw) => {
        const conn = await o.net.connect(
          o.target,
          o.tls === undefined ? { sw } : { sw, tls: o.tls },
        );
        await conn.write([msg]);
        await Flow.readExact(conn, reply);
      });
    } catch (e) {
      throw explainEof(e, id, `connection ${seq} of worker`);
    }
    if (o.verify && !reply.equals(msg)) {
      throw new EchoMismatch(
        `worker ${id}: the echo on connection ${seq} differs from what was sent`,
      );
    }
    stats.answer(t, counted);
  }
}

/**
 * Stream on `conn`: keep writing `size`-byte chunks, with at most `window` bytes not yet
 * echoed, while reading the echo back and checking it; a chunk is answered when its last byte
 * comes back. When the phase is `done`, stops writing and reads until everything sent is back.
 * @throws EchoMismatch; IoError if the connection fails or ends early.
 */
export async function stream(conn: StreamSocket, id: number, o: LoadOptions): Promise<void> {
  const { stats, clock, size } = o;
  const chunk = payload(size);
  const slots = Math.ceil(o.window / size) + 1;
  const sentAt = new Float64Array(slots);
  const countedAt = new Uint8Array(slots);
  let chunksSent = 0;
  let chunksAnswered = 0;
  let tx = 0;
  let rx = 0;
  let writerDone = false;
  // the writer waits here for room in the window; the reader wakes it
  let wake: (() => void) | null = null;
  const wakeUp = (): void => {
    const w = wake;
    wake = null;
    w?.();
  };
  const waitForReader = (): Promise<void> =>
    suspend<void>((resolve) => {
      wake = resolve;
      return () => {
        wake = null;
      };
    });

  const writer = async (): Promise<void> => {
    while (stats.phase !== "done") {
      if (tx - rx + size > o.window && tx - rx > 0) {
        await waitForReader();
        continue;
      }
      const slot = chunksSent % slots;
      const counted = stats.phase === "measure";
      countedAt[slot] = counted ? 1 : 0;
      if (counted) stats.sent++;
      sentAt[slot] = clock.now();
      chunksSent++;
      tx += size;
      wakeUp(); // the reader may be waiting for something in flight
      await conn.write([chunk]);
    }
    writerDone = true;
    wakeUp();
  };

  const reader = async (): Promise<void> => {
    const buf = Buffer.allocUnsafe(Math.max(65536, Math.min(size, 1 << 20)));
    while (!(writerDone && rx === tx)) {
      if (rx === tx) {
        // nothing in flight: wait for the writer to send more (or finish)
        await waitForReader();
        continue;
      }
      let n: number;
      try {
        n = await conn.readInto(buf);
      } catch (e) {
        throw explainEof(e, id, `chunk ${chunksAnswered + 1}`);
      }
      if (o.verify) check(buf, n, rx);
      rx += n;
      stats.progress++;
      while (chunksAnswered < chunksSent && rx >= (chunksAnswered + 1) * size) {
        const slot = chunksAnswered % slots;
        stats.answer(sentAt[slot] as number, countedAt[slot] === 1);
        chunksAnswered++;
      }
      wakeUp();
    }
  };

  const check = (buf: Buffer, n: number, offset: number): void => {
    let i = 0;
    while (i < n) {
      const pos = (offset + i) % size;
      const len = Math.min(n - i, size - pos);
      if (buf.compare(chunk, pos, pos + len, i, i + len) !== 0) {
        throw new EchoMismatch(
          `connection ${id}: the echo differs from what was sent at byte ${offset + i}`,
        );
      }
      i += len;
    }
  };

  // both wait on `wake`, one at a time: the writer only when the window is full (data in
  // flight, so the reader is reading), the reader only when nothing is in flight
  await Switch.run(async (sw) => {
    sw.fork(reader);
    await writer();
  });
}

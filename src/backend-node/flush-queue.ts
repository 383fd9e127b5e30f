/**
 * Waiting for a `net.Socket`'s queued writes to reach the kernel: `FlushQueue` (one per socket,
 * made when first needed) and `WriteWait`, a pending write.
 * @module
 */
import { Buffer } from "node:buffer";
import type { Socket } from "node:net";
import { Operation } from "../core/operation.ts";
import { toIoError } from "./errors.ts";

const EMPTY = Buffer.alloc(0);

/** Something waiting for the socket's queued writes to reach the kernel (see {@link FlushQueue}). */
export interface Flushable {
  /** Called once, in order, when every write queued before it has completed (or failed). */
  flushed(err: unknown): void;
}

/**
 * Waits for Node's write queue to drain into the kernel: each waiter queues an empty write
 * whose callback Node calls once every write before it has completed (callbacks run in order).
 * Costs nothing unless a write could not complete at once. Where an empty write fails (Deno's
 * TLS sockets: EPERM), the queue is made by {@link FlushQueue.tracking} instead, before the
 * first write: every write then carries a callback, and a waiter waits for the last one.
 */
export class FlushQueue {
  readonly #raw: Socket;
  /** Each waiter, with the number of tracked writes it waits for (0 with markers). */
  readonly #waiters: Array<{ readonly w: Flushable; readonly upTo: number }> = [];
  readonly #tracked: boolean;
  #issued = 0;
  #done = 0;
  readonly #cb = (err?: Error | null): void => {
    const head = this.#waiters.shift();
    if (head !== undefined) head.w.flushed(err ?? null);
  };

  constructor(raw: Socket, tracked = false) {
    this.#raw = raw;
    this.#tracked = tracked;
  }

  /** A queue that tracks `raw`'s writes (it wraps the instance's `write`). */
  static tracking(raw: Socket): FlushQueue {
    const q = new FlushQueue(raw, true);
    const write = raw.write;
    const completed = (err?: Error | null): void => {
      q.#done++;
      while (q.#waiters.length > 0 && (q.#waiters[0]?.upTo ?? 0) <= q.#done) {
        q.#waiters.shift()?.w.flushed(err ?? null);
      }
    };
    raw.write = function (this: Socket, chunk: unknown, a?: unknown, b?: unknown): boolean {
      const cb = (typeof a === "function" ? a : b) as ((e?: Error | null) => void) | undefined;
      const enc = typeof a === "function" ? undefined : a;
      q.#issued++;
      return (write as (c: unknown, e: unknown, f: (e?: Error | null) => void) => boolean).call(
        this,
        chunk,
        enc,
        (err) => {
          completed(err);
          cb?.(err);
        },
      );
    } as Socket["write"];
    return q;
  }

  wait(w: Flushable): void {
    if (!this.#tracked) {
      this.#waiters.push({ w, upTo: 0 });
      this.#raw.write(EMPTY, this.#cb);
    } else if (this.#done >= this.#issued) w.flushed(this.#raw.errored);
    else this.#waiters.push({ w, upTo: this.#issued });
  }

  /** Whether anyone waits. */
  get waiting(): boolean {
    return this.#waiters.length > 0;
  }

  /** Fails every waiter with `err` (later callbacks from Node find nobody and are ignored). */
  failAll(err: unknown): void {
    const ws = this.#waiters.splice(0);
    for (const { w } of ws) w.flushed(err);
  }
}

/**
 * A pending `write`: resolves when Node has handed the bytes to the kernel. Cancellable (the
 * bytes then still go out: Node holds the buffers until they do).
 */
export class WriteWait extends Operation<void> implements Flushable {
  flushed(err: unknown): void {
    if (err === null || err === undefined) this.settle(undefined);
    else this.fail(toIoError(err));
  }
}

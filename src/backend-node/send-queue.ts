/**
 * `SendQueue`: the bound on a datagram socket's sends in flight, so that sends nobody awaits
 * cannot pile up without end: past the bound, a send waits in a FIFO (one small record, no
 * extra promise) until an earlier one is done.
 * @module
 */

/**
 * How many sends a datagram socket has in flight (handed to the socket, not yet reported
 * done) before further sends wait: the default of `sendQueueLimit`.
 * @example
 * ```ts
 * DEFAULT_SEND_QUEUE_LIMIT; // 64
 * ```
 */
export const DEFAULT_SEND_QUEUE_LIMIT = 64;

/** One send: what to send, and how to answer its caller. */
export interface SendJob<D> {
  readonly bufs: readonly Uint8Array[];
  readonly dst: D;
  readonly resolve: () => void;
  readonly reject: (e: unknown) => void;
  /** Set once handed to the socket: it can no longer be withdrawn. */
  started: boolean;
}

/** Hands `job` to the socket and calls `done(err)` when the socket reports it finished. */
export type StartSend<D> = (job: SendJob<D>, done: (err: unknown) => void) => void;

/**
 * At most `limit` jobs in flight; the others wait their turn in order. A job that waits can be
 * withdrawn (a cancelled send: it is then never sent).
 * @example
 * ```ts
 * const q = new SendQueue(64, (job, done) => core.send(job.bufs, job.dst, done));
 * q.push({ bufs, dst, resolve, reject, started: false });
 * ```
 */
export class SendQueue<D> {
  readonly #limit: number;
  readonly #start: StartSend<D>;
  readonly #waiting: SendJob<D>[] = [];
  #inFlight = 0;

  constructor(limit: number, start: StartSend<D>) {
    this.#limit = limit;
    this.#start = start;
  }

  /** How many jobs are in flight. */
  get inFlight(): number {
    return this.#inFlight;
  }

  /** How many jobs wait for their turn. */
  get waiting(): number {
    return this.#waiting.length;
  }

  /** Starts `job` now if there is room (and nobody waits before it), else queues it. */
  push(job: SendJob<D>): void {
    if (this.#inFlight < this.#limit && this.#waiting.length === 0) this.#run(job);
    else this.#waiting.push(job);
  }

  /** Takes a job that has not started out of the queue. Returns whether it was there. */
  withdraw(job: SendJob<D>): boolean {
    if (job.started) return false;
    const i = this.#waiting.indexOf(job);
    if (i < 0) return false;
    this.#waiting.splice(i, 1);
    return true;
  }

  /** Fails every waiting job with `err` (the socket is closing); in-flight ones are the socket's. */
  failWaiting(err: () => unknown): void {
    for (const job of this.#waiting.splice(0)) job.reject(err());
  }

  #run(job: SendJob<D>): void {
    job.started = true;
    this.#inFlight++;
    let finished = false;
    const done = (err: unknown): void => {
      if (finished) return;
      finished = true;
      this.#inFlight--;
      if (err === null || err === undefined) job.resolve();
      else job.reject(err);
      this.#next();
    };
    try {
      this.#start(job, done);
    } catch (e) {
      done(e);
    }
  }

  #next(): void {
    while (this.#inFlight < this.#limit) {
      const job = this.#waiting.shift();
      if (job === undefined) return;
      this.#run(job);
    }
  }
}

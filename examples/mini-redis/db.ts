/**
 * The key space of mini-redis and its publish/subscribe broker. Pure code on a clock function
 * (`now()` in ms), so expiry runs on `weir/mock` time in the tests and on the monotonic clock
 * in a real server.
 * @module
 */

interface Entry {
  value: Buffer;
  /** When the key expires (ms on the db's clock), or `Infinity`. */
  expiresAt: number;
}

/** Options of {@link Db}. */
export interface DbOptions {
  /** The current time in ms (e.g. `() => env.monoClock.now()`). */
  readonly now: () => number;
  /** The most keys held at once; a `SET` of a new key past it fails with `-OOM`. Default 1 000 000. */
  readonly maxKeys?: number | undefined;
}

/** Strings with optional expiry: what `GET`, `SET`, `DEL`, `INCR`, `EXPIRE` and `TTL` work on. */
export class Db {
  readonly #map = new Map<string, Entry>();
  readonly now: () => number;
  readonly maxKeys: number;

  /** @throws RangeError if `maxKeys` is not an integer > 0. */
  constructor(opts: DbOptions) {
    const maxKeys = opts.maxKeys ?? 1_000_000;
    if (!Number.isInteger(maxKeys) || maxKeys <= 0) {
      throw new RangeError(`maxKeys must be an integer > 0, got ${String(maxKeys)}`);
    }
    this.now = opts.now;
    this.maxKeys = maxKeys;
  }

  /** The number of keys held (expired ones included until they are noticed). */
  get size(): number {
    return this.#map.size;
  }

  #live(key: string): Entry | undefined {
    const e = this.#map.get(key);
    if (e === undefined) return undefined;
    if (e.expiresAt !== Infinity && e.expiresAt <= this.now()) {
      this.#map.delete(key);
      return undefined;
    }
    return e;
  }

  /** The value of `key`, or `undefined`. */
  get(key: string): Buffer | undefined {
    return this.#live(key)?.value;
  }

  /**
   * Sets `key` to `value`, expiring after `ttlMs` (or never).
   * @returns false if the db is full (even after dropping expired keys).
   */
  set(key: string, value: Buffer, ttlMs = Infinity): boolean {
    const expiresAt = ttlMs === Infinity ? Infinity : this.now() + ttlMs;
    const e = this.#map.get(key);
    if (e !== undefined) {
      e.value = value;
      e.expiresAt = expiresAt;
      return true;
    }
    if (this.#map.size >= this.maxKeys && this.#purge() === 0) return false;
    this.#map.set(key, { value, expiresAt });
    return true;
  }

  /** Drops the expired keys; returns how many. */
  #purge(): number {
    const now = this.now();
    let n = 0;
    for (const [k, e] of this.#map) {
      if (e.expiresAt <= now) {
        this.#map.delete(k);
        n++;
      }
    }
    return n;
  }

  /** Deletes `key`; true if it existed. */
  delete(key: string): boolean {
    return this.#live(key) !== undefined && this.#map.delete(key);
  }

  /**
   * Adds 1 to the integer in `key` (0 if missing), keeping its expiry.
   * @returns the new value, `"NaN"` if the value is not an integer in range, `"full"` if a new
   *   key does not fit.
   */
  incr(key: string): number | "NaN" | "full" {
    const e = this.#live(key);
    const text = e?.value.toString("latin1") ?? "0";
    if (!/^-?\d{1,19}$/.test(text)) return "NaN";
    const n = BigInt(text) + 1n;
    if (n > 9223372036854775807n) return "NaN";
    const value = Buffer.from(n.toString(), "latin1");
    if (e !== undefined) {
      e.value = value;
      return Number(n);
    }
    return this.set(key, value) ? Number(n) : "full";
  }

  /** Makes `key` expire after `ttlMs`; false if it does not exist. */
  expire(key: string, ttlMs: number): boolean {
    const e = this.#live(key);
    if (e === undefined) return false;
    if (ttlMs <= 0) this.#map.delete(key);
    else e.expiresAt = this.now() + ttlMs;
    return true;
  }

  /** The time to live of `key` in ms: -2 if missing, -1 if it never expires. */
  ttlMs(key: string): number {
    const e = this.#live(key);
    if (e === undefined) return -2;
    if (e.expiresAt === Infinity) return -1;
    return e.expiresAt - this.now();
  }
}

/** A connection in subscribed mode, as the broker sees it. */
export interface Subscriber {
  /** Queues a message for the client (never waits: the connection bounds its own buffer). */
  deliver(channel: string, message: Buffer): void;
}

/** `PUBLISH`/`SUBSCRIBE`: channels and who listens to each. */
export class Broker {
  readonly #channels = new Map<string, Set<Subscriber>>();

  /** Adds `sub` to `channel`. */
  subscribe(channel: string, sub: Subscriber): void {
    let set = this.#channels.get(channel);
    if (set === undefined) {
      set = new Set();
      this.#channels.set(channel, set);
    }
    set.add(sub);
  }

  /** Removes `sub` from `channel`. */
  unsubscribe(channel: string, sub: Subscriber): void {
    const set = this.#channels.get(channel);
    if (set === undefined) return;
    set.delete(sub);
    if (set.size === 0) this.#channels.delete(channel);
  }

  /** Sends `message` to every subscriber of `channel`; returns how many got it. */
  publish(channel: string, message: Buffer): number {
    const set = this.#channels.get(channel);
    if (set === undefined) return 0;
    for (const sub of set) sub.deliver(channel, message);
    return set.size;
  }
}

/**
 * `StopSignals`: SIGINT and SIGTERM as promises, for the commands that stop gracefully.
 * @module
 */

/** A promise with its resolve function (`Promise.withResolvers`, not in this project's `lib` yet). */
export interface Deferred<T> {
  /** The promise. */
  readonly promise: Promise<T>;
  /** Resolves it. */
  readonly resolve: (value: T) => void;
}

/** Makes a {@link Deferred}. */
export function deferred<T>(): Deferred<T> {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}

/** The signals that ask a `weir` command to stop. */
const STOP_SIGNALS: readonly NodeJS.Signals[] = ["SIGINT", "SIGTERM"];

/**
 * Catches SIGINT and SIGTERM while it is in use: the first one resolves {@link first} (stop
 * gracefully), the second one resolves {@link second} (stop now). Disposing it restores
 * Node's default handling.
 * @example
 * ```ts
 * using signals = new StopSignals();
 * const name = await signals.first; // "SIGTERM"
 * ```
 */
export class StopSignals implements Disposable {
  readonly #first = deferred<NodeJS.Signals>();
  readonly #second = deferred<NodeJS.Signals>();
  #count = 0;
  readonly #handler = (sig: NodeJS.Signals): void => {
    this.#count++;
    if (this.#count === 1) this.#first.resolve(sig);
    else this.#second.resolve(sig);
  };

  constructor() {
    for (const s of STOP_SIGNALS) process.on(s, this.#handler);
  }

  /** Resolves with the name of the first stop signal. */
  get first(): Promise<NodeJS.Signals> {
    return this.#first.promise;
  }

  /** Resolves with the name of the second stop signal. */
  get second(): Promise<NodeJS.Signals> {
    return this.#second.promise;
  }

  /** Stops catching the signals. */
  [Symbol.dispose](): void {
    for (const s of STOP_SIGNALS) process.off(s, this.#handler);
  }
}

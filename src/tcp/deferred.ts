/**
 * `deferred()`: `Promise.withResolvers` (not in this project's `lib` yet).
 * @module
 */

/** A promise with the functions that settle it. */
export interface Deferred<T> {
  readonly promise: Promise<T>;
  readonly resolve: (value: T) => void;
  readonly reject: (reason: unknown) => void;
}

/**
 * A new unsettled promise and its resolve and reject functions.
 * @example
 * ```ts
 * const d = deferred<void>();
 * setTimeout(() => d.resolve(), 10);
 * await d.promise;
 * ```
 */
export function deferred<T>(): Deferred<T> {
  let resolve!: (value: T) => void;
  let reject!: (reason: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

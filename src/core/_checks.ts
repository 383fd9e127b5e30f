/**
 * Private helpers for argument checks, written once for every folder (not part of the public
 * API): how a bad value is described in an error message, the count rule, and the thenable test.
 * @module
 */

/**
 * A short description of `x` for an error message: a string quoted (`"log"`), `null`, an array
 * or an object named as such, a bigint with its `n`, anything else as its type and value
 * (`number 1.5`).
 * @example
 * ```ts
 * describe("x"); // '"x"'
 * describe(1.5); // "number 1.5"
 * ```
 */
export function describe(x: unknown): string {
  if (typeof x === "string") return JSON.stringify(x);
  if (x === null) return "null";
  if (typeof x === "bigint") return `bigint ${x}n`;
  if (typeof x === "object") return Array.isArray(x) ? "an array" : "an object";
  return `${typeof x} ${String(x)}`;
}

/**
 * Checks a count option: an integer > 0 (`min` 1), or >= `min`, returned as given.
 * @throws RangeError naming the option and the value as given.
 * @example
 * ```ts
 * checkCount("maxConnections", 0); // throws RangeError: maxConnections must be an integer > 0, got number 0
 * ```
 */
export function checkCount(name: string, n: unknown, min = 1): number {
  if (typeof n !== "number" || !Number.isInteger(n) || n < min) {
    const rule = min === 1 ? "> 0" : `>= ${min}`;
    throw new RangeError(`${name} must be an integer ${rule}, got ${describe(n)}`);
  }
  return n;
}

/** Whether `x` has a `then` method (a promise or any thenable). */
export function isThenable(x: unknown): x is PromiseLike<unknown> {
  return (
    (typeof x === "object" || typeof x === "function") &&
    x !== null &&
    typeof (x as { then?: unknown }).then === "function"
  );
}

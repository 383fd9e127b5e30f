/**
 * The argument checks every entry point shares, with one rule for showing a bad value: a
 * string is quoted (`got "10"`), so that it cannot be mistaken for the number it looks like.
 * Each check throws at once, naming the argument: a `TypeError` for a value of the wrong type,
 * a `RangeError` for a number out of range.
 * @module
 */

const MAX_SHOWN = 60;

/**
 * Shows a value as an error message quotes it: strings quoted as JSON string literals (cut
 * after 60 characters), numbers and the other primitives as they print (`10`, `NaN`, `1n`,
 * `undefined`, `null`), functions, arrays and objects by what they are.
 * @example
 * ```ts
 * show("10"); // '"10"'
 * show(10); // "10"
 * show({}); // "an object"
 * ```
 */
export function show(v: unknown): string {
  switch (typeof v) {
    case "string":
      return JSON.stringify(v.length > MAX_SHOWN ? `${v.slice(0, MAX_SHOWN)}…` : v);
    case "bigint":
      return `${v}n`;
    case "symbol":
      return v.toString();
    case "function":
      return v.name === "" ? "a function" : `a function (${v.name})`;
    case "object": {
      if (v === null) return "null";
      if (Array.isArray(v)) return "an array";
      const name = (v as { constructor?: { name?: unknown } }).constructor?.name;
      return typeof name === "string" && name !== "Object" && name !== ""
        ? `an object (${name})`
        : "an object";
    }
    default:
      return Object.is(v, -0) ? "-0" : String(v);
  }
}

/**
 * Checks that `v` is a function.
 * @throws TypeError `NAME must be a function, got VALUE`.
 * @example
 * ```ts
 * checkFunction("handler", handler);
 * ```
 */
export function checkFunction(
  name: string,
  v: unknown,
): asserts v is (...args: never[]) => unknown {
  if (typeof v !== "function") throw new TypeError(`${name} must be a function, got ${show(v)}`);
}

/**
 * Checks that `v` is an object (an options bag, say), not `null`, an array or a primitive.
 * @throws TypeError `NAME must be an object, got VALUE` (or `what` instead of "an object").
 * @example
 * ```ts
 * checkObject("runServer: options", opts, "an object with onError");
 * ```
 */
export function checkObject(name: string, v: unknown, what = "an object"): asserts v is object {
  if (typeof v !== "object" || v === null || Array.isArray(v)) {
    throw new TypeError(`${name} must be ${what}, got ${show(v)}`);
  }
}

/**
 * Checks that `v` has a method `method` (a duck-typed interface such as a ListeningSocket).
 * @throws TypeError `NAME must be WHAT, got VALUE`.
 * @example
 * ```ts
 * checkHasMethod("listener", listener, "accept", "a ListeningSocket");
 * ```
 */
export function checkHasMethod(name: string, v: unknown, method: string, what: string): void {
  if (
    (typeof v !== "object" && typeof v !== "function") ||
    v === null ||
    typeof (v as Record<string, unknown>)[method] !== "function"
  ) {
    throw new TypeError(`${name} must be ${what}, got ${show(v)}`);
  }
}

/**
 * Checks that `v` is an integer in `min..max` (`max` may be `Infinity`) and returns it.
 * @throws TypeError if `v` is not a number (`NAME must be an integer in MIN..MAX, got "10"`);
 *   RangeError if it is a number but not an integer in range.
 * @example
 * ```ts
 * const backlog = checkInt("backlog", opts.backlog, 0, MAX_BACKLOG);
 * ```
 */
export function checkInt(name: string, v: unknown, min: number, max: number): number {
  const want =
    max === Infinity
      ? min === 1
        ? "an integer > 0"
        : `an integer >= ${min}`
      : `an integer in ${min}..${max}`;
  if (typeof v !== "number") throw new TypeError(`${name} must be ${want}, got ${show(v)}`);
  if (!Number.isInteger(v) || v < min || v > max) {
    throw new RangeError(`${name} must be ${want}, got ${show(v)}`);
  }
  return v;
}

/**
 * Checks a count that must be positive (`maxConnections`, ...): an integer > 0, or `Infinity`
 * when `allowInfinity`.
 * @throws TypeError for a non-number (`maxConnections must be an integer > 0, got "10"`);
 *   RangeError for 0, a negative number, a fraction or NaN.
 * @example
 * ```ts
 * const max = checkCount("maxConnections", opts.maxConnections);
 * ```
 */
export function checkCount(name: string, v: unknown, allowInfinity = false): number {
  if (allowInfinity && v === Infinity) return v;
  return checkInt(name, v, 1, Infinity);
}

/**
 * Checks a duration in ms: a finite number >= 0 (`Infinity` too when `allowInfinity`).
 * @throws TypeError for a non-number; RangeError for a negative number, NaN or Infinity.
 * @example
 * ```ts
 * checkDuration("keepAlive.idle", ka.idle);
 * ```
 */
export function checkDuration(name: string, v: unknown, allowInfinity = false): number {
  if (typeof v !== "number") {
    throw new TypeError(`${name} must be a number of ms >= 0, got ${show(v)}`);
  }
  if (Number.isNaN(v) || v < 0 || (!allowInfinity && v === Infinity)) {
    throw new RangeError(`${name} must be a number of ms >= 0, got ${show(v)}`);
  }
  return v;
}

/**
 * Checks that `v` is a non-empty string.
 * @throws TypeError for a non-string; RangeError for `""`.
 * @example
 * ```ts
 * checkNonEmptyString("path", path);
 * ```
 */
export function checkNonEmptyString(name: string, v: unknown): string {
  if (typeof v !== "string") throw new TypeError(`${name} must be a string, got ${show(v)}`);
  if (v === "") throw new RangeError(`${name} must not be empty, got ""`);
  return v;
}

/**
 * Checks an optional boolean option.
 * @throws TypeError if `v` is neither `undefined` nor a boolean.
 * @example
 * ```ts
 * checkOptionalBoolean("reuseAddr", opts.reuseAddr);
 * ```
 */
export function checkOptionalBoolean(name: string, v: unknown): void {
  if (v !== undefined && typeof v !== "boolean") {
    throw new TypeError(`${name} must be a boolean, got ${show(v)}`);
  }
}

/**
 * Whether `x` has a `then` method (a promise or any thenable).
 * @example
 * ```ts
 * isThenable(Promise.resolve(1)); // true
 * ```
 */
export function isThenable(x: unknown): x is PromiseLike<unknown> {
  return (
    (typeof x === "object" || typeof x === "function") &&
    x !== null &&
    typeof (x as { then?: unknown }).then === "function"
  );
}

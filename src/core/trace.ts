/**
 * `traceln`: Eio's debug trace line. Written to standard error, or to the sink installed by
 * the running backend (`weir/mock` captures them so tests can compare whole traces).
 * @module
 */
import { formatWithOptions } from "node:util";
import { currentFiber } from "./fiber-context.ts";

/**
 * Writes one trace line (arguments formatted as `console.log` does; a string first argument
 * may hold `%s`-style placeholders) to the current fiber's trace sink, or standard error.
 * @example
 * ```ts
 * traceln("Client received: %j", "Bye");
 * ```
 */
export function traceln(...args: unknown[]): void {
  const ctx = currentFiber();
  const text = ctx.tracePrefix + formatWithOptions({ colors: false }, ...args);
  if (ctx.trace !== undefined) ctx.trace.write(text);
  else process.stderr.write(`${text}\n`);
}

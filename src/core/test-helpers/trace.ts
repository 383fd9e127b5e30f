/**
 * Trace capture for tests: run a function with a trace sink that collects `traceln` lines,
 * and render its outcome as Eio's test transcripts do (`Exception: ...` last).
 * @module
 */
import { CancelContext } from "../cancel-context.ts";
import { isCancelled, suppressedErrors } from "../errors.ts";
import { currentFiber, runInFiber } from "../fiber-context.ts";

/** What {@link withTrace} returns: the result or the error, and the trace lines. */
export type Traced<T> =
  | { readonly ok: true; readonly result: T; readonly trace: string[] }
  | { readonly ok: false; readonly error: unknown; readonly trace: string[] };

/**
 * Runs `fn` as a fiber whose `traceln` lines are collected, in a fresh cancellation context
 * (a child of the caller's, so a test cannot cancel the root context by accident).
 * Lines traced after `fn` has settled still land in `trace`.
 * @example
 * ```ts
 * const r = await withTrace(() => Switch.run(async () => traceln("Running")));
 * expect(r.trace).toEqual(["Running"]);
 * ```
 */
export async function withTrace<T>(fn: () => T | Promise<T>): Promise<Traced<T>> {
  const trace: string[] = [];
  const parent = currentFiber();
  const cc = new CancelContext(parent.cc);
  const ctx = { ...parent, cc, trace: { write: (l: string) => void trace.push(l) } };
  try {
    const result = await runInFiber(ctx, fn);
    return { ok: true, result, trace };
  } catch (error) {
    return { ok: false, error, trace };
  } finally {
    cc.finish();
  }
}

/**
 * Renders an error as Eio's transcripts print exceptions: `Error: msg`, `Cancelled: <cause>`;
 * an error that kept later errors (see `suppressedErrors`) becomes `Multiple exceptions:`
 * followed by one `- ` line per error, the first one first.
 */
export function formatError(e: unknown): string {
  const later = suppressedErrors(e);
  if (later.length === 0) return formatOne(e);
  const lines = [formatOne(e), ...later.map(formatError)].map(
    (x) => `- ${x.replaceAll("\n", "\n  ")}`,
  );
  return ["Multiple exceptions:", ...lines].join("\n");
}

function formatOne(e: unknown): string {
  if (isCancelled(e))
    return e.cause === undefined ? "Cancelled" : `Cancelled: ${formatError(e.cause)}`;
  if (e instanceof AggregateError) {
    return ["Multiple exceptions:", ...e.errors.map((x) => `- ${formatError(x)}`)].join("\n");
  }
  if (e instanceof Error) return `${e.name}: ${e.message}`;
  return typeof e === "string" ? e : (JSON.stringify(e) ?? String(e));
}

/**
 * The whole transcript of a traced run, as Eio's tests show it: the trace lines, then
 * `Exception: ...` (split into lines) if it failed, else nothing.
 */
export function transcript<T>(r: Traced<T>): string[] {
  if (r.ok) return [...r.trace];
  return [...r.trace, ...`Exception: ${formatError(r.error)}`.split("\n")];
}

/** Runs `fn` with a trace capture and returns its transcript (see {@link transcript}). */
export async function traceOf(fn: () => unknown): Promise<string[]> {
  return transcript(await withTrace(fn));
}

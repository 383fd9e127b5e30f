/**
 * Helpers for the mock transcripts: run on the mock backend and capture the whole trace, the
 * result and the error, so a test can compare them whole (as Eio's mdx transcripts do).
 */
import { Mock, type MockEnv } from "../../src/mock/index.ts";

/** What a mock run printed, returned and raised. */
export interface Transcript<T> {
  /** Every trace line, joined with newlines. */
  readonly trace: string;
  /** The run's result, if it returned. */
  readonly value?: T;
  /** The run's error, if it failed. */
  readonly error?: unknown;
}

/** Runs `fn` with `Mock.Backend.runFull` and captures its transcript. */
export async function transcript<T>(fn: (env: MockEnv) => T | Promise<T>): Promise<Transcript<T>> {
  const lines: string[] = [];
  try {
    const value = await Mock.Backend.runFull(fn, { onTrace: (l) => lines.push(l) });
    return { trace: lines.join("\n"), value };
  } catch (error) {
    return { trace: lines.join("\n"), error };
  }
}

/** Formats an error as Eio's toplevel prints an exception: `Name: message`. */
export function show(e: unknown): string {
  return e instanceof Error ? `${e.name}: ${e.message}` : String(e);
}

/** `Promise.withResolvers()` (Eio's `Promise.create`). */
export function promiseWithResolvers<T>(): PromiseWithResolvers<T> {
  return Promise.withResolvers<T>();
}

/**
 * Jobs for the domain manager's tests: each export runs in a worker thread.
 * @module
 */
import { threadId } from "node:worker_threads";
import { IoError } from "../../core/index.ts";
import { SharedSemaphore } from "../shared-semaphore.ts";

/** Adds two numbers and says where it ran. */
export function add(a: number, b: number): { sum: number; threadId: number } {
  return { sum: a + b, threadId };
}

/** Fails with an IoError with context. */
export async function failIo(): Promise<never> {
  throw new IoError({ kind: "ConnectionReset", cause: new Error("peer gone") }, ["writing"]);
}

/** Never finishes (until the thread is terminated). */
export function forever(): Promise<never> {
  return new Promise(() => {
    setInterval(() => {}, 1000);
  });
}

/** Returns something that cannot be cloned. */
export function unclonable(): unknown {
  return () => 1;
}

/** Not a function. */
export const notAFunction = 42;

/** Takes a permit of the shared semaphore, holds it for `ms`, gives it back. */
export async function holdPermit(buf: SharedArrayBuffer, ms: number): Promise<number> {
  const sem = new SharedSemaphore(buf);
  await sem.acquire();
  await new Promise((r) => setTimeout(r, ms));
  sem.release();
  return threadId;
}

/**
 * Sets cell 1 of `buf` to 1 (so the caller knows this thread is about to wait), then waits for
 * a permit of the semaphore in cell 0 with nothing else to do, and gives it back.
 */
export async function waitIdleForPermit(buf: SharedArrayBuffer): Promise<number> {
  const sem = new SharedSemaphore(buf);
  Atomics.store(new Int32Array(buf), 1, 1);
  await sem.acquire();
  sem.release();
  return threadId;
}

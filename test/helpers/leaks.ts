/**
 * Leak checks for tests: the handles, requests and timers Node reports as keeping the event
 * loop alive, and this process's open file descriptors, compared with a baseline.
 */
import { readdirSync, readlinkSync } from "node:fs";
import { runtime } from "../../src/core/runtime.ts";

/** A count per resource kind, as `process.getActiveResourcesInfo()` reports them. */
export type ResourceCounts = Map<string, number>;

/** Counts the active resources (handles, requests, timers) by kind. */
export function activeResources(): ResourceCounts {
  const m = new Map<string, number>();
  for (const r of process.getActiveResourcesInfo()) m.set(r, (m.get(r) ?? 0) + 1);
  return m;
}

/**
 * Opens, once, what the runtime itself opens lazily and keeps for good, so that it is in every
 * test's baseline: Deno opens a socketpair (its signal driver's) on the first signal listener,
 * its own or a test's.
 */
export function warmRuntime(): void {
  const noop = (): void => {};
  process.on("SIGWINCH", noop);
  process.off("SIGWINCH", noop);
}

/**
 * The number of open file descriptors of this process (Linux: /proc/self/fd). On Deno and Bun,
 * not the eventfd and eventpoll fds of worker threads' event loops (weir's domains', vitest's
 * own on Bun), which they close lazily, some time after the worker has ended (weir itself never
 * opens such fds); on Deno, not the anonymous temporary files of its own caches either.
 */
export function openFds(): number {
  try {
    const fds = readdirSync("/proc/self/fd");
    if (runtime.name === "node") return fds.length;
    return fds.filter((fd) => !isEventLoopFd(fd)).length;
  } catch {
    return -1;
  }
}

function isEventLoopFd(fd: string): boolean {
  try {
    const target = readlinkSync(`/proc/self/fd/${fd}`);
    if (target === "anon_inode:[eventfd]" || target === "anon_inode:[eventpoll]") return true;
    // Deno's own caches (SQLite) open anonymous temporary files (O_TMPFILE) now and then
    return runtime.name === "deno" && /^\/tmp\/#\d+ \(deleted\)$/.test(target);
  } catch {
    return false;
  }
}

/** What `now` has more of than `base`, as "Kind xN" strings (empty when nothing leaked). */
export function extraResources(base: ResourceCounts, now: ResourceCounts): string[] {
  const out: string[] = [];
  for (const [k, n] of now) {
    const b = base.get(k) ?? 0;
    if (n > b) out.push(`${k} x${n - b}`);
  }
  return out;
}

/**
 * Waits (up to `ms`) until no resource or fd is left beyond the baseline: closing is
 * asynchronous in Node, so give it a moment. Returns what is still left.
 */
export async function settleLeaks(
  base: ResourceCounts,
  baseFds: number,
  ms = 1000,
): Promise<string[]> {
  const deadline = Date.now() + ms;
  for (;;) {
    const extra = extraResources(base, activeResources());
    const fds = openFds();
    if (fds > baseFds && baseFds >= 0) extra.push(`file descriptors x${fds - baseFds}`);
    if (extra.length === 0 || Date.now() > deadline) return extra;
    await new Promise((r) => setTimeout(r, 5));
  }
}

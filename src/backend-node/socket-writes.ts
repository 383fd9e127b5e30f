/**
 * The write path's helpers of the Node stream socket: argument checks, handing buffers to
 * Node's `net.Socket`, and the addon's direct send (straight to the fd, when Node's queue is
 * empty), which TCP never needs: without the addon it is simply not used.
 * @module
 */
import type { Socket } from "node:net";
import { show } from "../core/checks.ts";
import { loadNative } from "./native.ts";

/** Checks a vectored write's argument. @throws TypeError naming the bad element. */
export function checkBufs(bufs: readonly Uint8Array[]): void {
  if (!Array.isArray(bufs)) throw new TypeError(`bufs must be an array, got ${show(bufs)}`);
  for (let i = 0; i < bufs.length; i++) checkBuf(bufs[i], `bufs[${i}]`);
}

/** Hands `bufs` to Node in order, several in one writev (cork), skipping empty ones. */
export function handOver(raw: Socket, bufs: readonly Uint8Array[]): void {
  const n = bufs.length;
  if (n === 1) {
    const b = bufs[0] as Uint8Array;
    if (b.length > 0) raw.write(b);
  } else if (n > 1) {
    raw.cork();
    for (let i = 0; i < n; i++) {
      const b = bufs[i] as Uint8Array;
      if (b.length > 0) raw.write(b);
    }
    raw.uncork();
  }
}

export function checkBuf(buf: unknown, name: string): asserts buf is Uint8Array {
  if (!(buf instanceof Uint8Array)) {
    throw new TypeError(`${name} must be a Uint8Array, got ${show(buf)}`);
  }
}

/** The addon's non-blocking send: the bytes the kernel took of `bufs`, or minus the errno. */
export type DirectSend = (fd: number, bufs: readonly Uint8Array[]) => number;

let trySend: DirectSend | null | undefined;
/** The addon's `trySend`, or `null` where there is no addon (TCP never needs it). */
export function directSend(): DirectSend | null {
  if (trySend === undefined) {
    try {
      const f = loadNative().trySend;
      trySend = typeof f === "function" ? f : null;
    } catch {
      trySend = null;
    }
  }
  return trySend;
}

/**
 * What is left of `bufs` once their first `n` bytes have gone (views of `bufs`), or `null` if
 * nothing is left.
 * @example
 * ```ts
 * restAfter([Buffer.from("ab"), Buffer.from("cd")], 3); // [<Buffer 64>]
 * ```
 */
export function restAfter(bufs: readonly Uint8Array[], n: number): Uint8Array[] | null {
  let left = n;
  for (let i = 0; i < bufs.length; i++) {
    const b = bufs[i] as Uint8Array;
    if (left < b.length) {
      const rest = bufs.slice(i);
      rest[0] = b.subarray(left);
      return rest;
    }
    left -= b.length;
  }
  return null;
}

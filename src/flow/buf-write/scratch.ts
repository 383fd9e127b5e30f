/**
 * The write buffer that writers share (one per thread): a writer that starts writing with no
 * buffer of its own takes it, if no other writer holds it, and gives it back once the sink has
 * taken everything written into it. A server's connections answer one after another, each
 * flushing before the next one writes, so they all write into the same few cache-hot lines
 * instead of a fresh slice of Node's pool per reply batch (which costs an allocation, and an
 * `ArrayBuffer` to sweep every 8 KiB). An idle writer still holds no memory.
 *
 * A writer that is aborted while a write may still use the buffer abandons it (the next taker
 * gets a new one): the sink's memory is never reused under it.
 * @module
 */
import { Buffer } from "node:buffer";

/** The shared buffer's size: the engine's usual size while writes keep coming. */
export const SCRATCH_SIZE = 4000;

let scratch: Buffer | null = null;
let held = false;

/** The shared buffer, now held by the caller; `null` if another writer holds it. */
export function takeScratch(): Buffer | null {
  if (held) return null;
  held = true;
  scratch ??= Buffer.allocUnsafeSlow(SCRATCH_SIZE);
  return scratch;
}

/** Gives the shared buffer back: the sink has taken everything written into it. */
export function releaseScratch(): void {
  held = false;
}

/** Gives the shared buffer up: a write may still use it, so the next taker gets a new one. */
export function abandonScratch(): void {
  scratch = null;
  held = false;
}

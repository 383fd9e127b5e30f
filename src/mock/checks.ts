/**
 * Argument checks shared by the mock flows.
 * @module
 */
import type { ShutdownCommand } from "../flow/types.ts";

const shutdownCommands: readonly string[] = ["send", "receive", "all"];

/** Checks a `readInto` buffer. @throws TypeError/RangeError naming `buf`. */
export function checkReadBuffer(buf: Uint8Array): void {
  if (!(buf instanceof Uint8Array)) {
    throw new TypeError(`buf must be a Uint8Array, got ${typeof buf}`);
  }
  if (buf.length === 0) throw new RangeError("buf must not be empty, got a buffer of length 0");
}

/** Checks the buffers of a `write`. @throws TypeError naming `bufs`. */
export function checkWriteBuffers(bufs: readonly Uint8Array[]): void {
  if (!Array.isArray(bufs)) throw new TypeError(`bufs must be an array, got ${typeof bufs}`);
  bufs.forEach((b, i) => {
    if (!(b instanceof Uint8Array)) {
      throw new TypeError(`bufs[${i}] must be a Uint8Array, got ${typeof b}`);
    }
  });
}

/** Checks a shutdown command. @throws TypeError naming `cmd`. */
export function checkShutdownCommand(cmd: ShutdownCommand): void {
  if (!shutdownCommands.includes(cmd)) {
    throw new TypeError(`cmd must be "send", "receive" or "all", got ${JSON.stringify(cmd)}`);
  }
}

/**
 * Unix socket files without the native addon (a platform with neither a prebuilt addon nor a
 * C toolchain): Node binds the path itself. A stale socket is still reclaimed only after a
 * refused connect, a live one is `AddressInUse`, and `mode` is set, but just after `listen`
 * (a client could connect under the umask's mode meanwhile), and closing removes the path
 * whatever is there by then (libuv unlinks it). With the addon none of these limits apply.
 * @module
 */
import { chmodSync, unlinkSync } from "node:fs";
import { createConnection } from "node:net";
import { errorCode, toIoError } from "./errors.ts";
import { inUse, lstatOrUndefined } from "./unix-path.ts";

/** Connects to `path` once: resolves with the connect's error code, or `undefined` if it connected. */
function probe(path: string): Promise<string | undefined> {
  return new Promise((resolve) => {
    const s = createConnection({ path });
    s.once("connect", () => {
      s.destroy();
      resolve(undefined);
    });
    s.once("error", (e) => {
      s.destroy();
      resolve(errorCode(e) ?? "UNKNOWN");
    });
  });
}

/**
 * Removes a stale stream socket file at `path`, as `reclaimStaleSocket` does with the addon:
 * only a socket, only after a connect to it is refused, only if still the file probed.
 * @throws IoError `AddressInUse` for a live socket.
 * @example
 * ```ts
 * await reclaimStaleSocketWithoutAddon("/tmp/app.sock");
 * ```
 */
export async function reclaimStaleSocketWithoutAddon(path: string): Promise<void> {
  const st = lstatOrUndefined(path);
  if (st === undefined || !st.isSocket()) return;
  const code = await probe(path);
  if (code === "ENOENT") return;
  if (code !== "ECONNREFUSED") {
    throw inUse(path, code === undefined ? "a server is listening" : `probe: ${code}`);
  }
  const again = lstatOrUndefined(path);
  if (again === undefined || again.dev !== st.dev || again.ino !== st.ino) return;
  try {
    unlinkSync(path);
  } catch (e) {
    if (errorCode(e) !== "ENOENT") throw toIoError(e);
  }
}

/**
 * Sets the mode of the socket file Node just bound and listens on.
 * @throws IoError from `chmod`.
 */
export function chmodSocketFile(path: string, mode: number): void {
  try {
    chmodSync(path, mode);
  } catch (e) {
    throw toIoError(e);
  }
}

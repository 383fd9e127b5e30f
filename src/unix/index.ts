/**
 * `weir/unix` (Eio's `Eio_unix`): file descriptors behind weir's resources, importing existing
 * fds as sockets, socket pairs and pipes. Node backend only; needs the native addon.
 * @module
 */

export type { NativeAddr } from "../backend-node/native.ts";
export { NativeAddonUnavailable, native } from "../backend-node/native.ts";
export type { HasUnixFd } from "../backend-node/unix-fd.ts";
export { unixFd } from "../backend-node/unix-fd.ts";
export type { HandoverOffer, HandoverOptions, TakenOver } from "./handover.ts";
export type { ActivationSocket, ListenFdsOptions } from "./listen-fds.ts";
export type { ImportListeningOptions, ImportOptions, PairOptions } from "./unix.ts";

import { offerHandover, takeOver } from "./handover.ts";
import { listenFds } from "./listen-fds.ts";
import { Unix as UnixCore } from "./unix.ts";

/**
 * Eio_unix for weir: the file descriptor behind a resource, importing existing descriptors as
 * weir sockets, socket pairs and pipes, conversions between weir's addresses and the system's
 * text forms; and for operations, the sockets systemd passes ({@link listenFds}) and
 * restarting without a dropped connection ({@link offerHandover}, {@link takeOver}).
 * @example
 * ```ts
 * import { Unix } from "weir/unix";
 * await Switch.run(async (sw) => {
 *   const [a, b] = Unix.socketpairStream({ sw });
 *   await Flow.copyString("foo", a);
 *   await a.close();
 *   await Flow.readAll(b, { maxSize: 10 }); // "foo"
 * });
 * ```
 */
export const Unix = Object.freeze({
  ...UnixCore,
  listenFds,
  offerHandover,
  takeOver,
});

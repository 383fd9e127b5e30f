/**
 * `weir/unix` (Eio's `Eio_unix`): file descriptors behind weir's resources, importing existing
 * fds as sockets, socket pairs and pipes. Node backend only; needs the native addon.
 * @module
 */

export type { NativeAddr } from "../backend-node/native.ts";
export { NativeAddonUnavailable, native } from "../backend-node/native.ts";
export type { HasUnixFd } from "../backend-node/unix-fd.ts";
export { unixFd } from "../backend-node/unix-fd.ts";
export {
  type ImportListeningOptions,
  type ImportOptions,
  type PairOptions,
  Unix,
} from "./unix.ts";

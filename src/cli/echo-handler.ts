/**
 * The connection handler of `weir echo` (and of `weir bench`'s in-process server), in a module
 * of its own so that worker threads (`weir echo --domains N`) can import it.
 * @module
 */
import { Flow } from "../flow/index.ts";
import type { StreamSocket } from "../net/index.ts";

/**
 * Echoes everything `flow` sends back to it; when the peer stops sending, finishes sending
 * too (half-close), so the peer reads end-of-file after the last byte.
 * @throws IoError if the connection fails (e.g. reset by the peer).
 * @example
 * ```ts
 * await Net.runServer(listener, echoHandler, { onError: () => {} });
 * ```
 */
export default async function echoHandler(flow: StreamSocket): Promise<void> {
  await Flow.copy(flow, flow);
  await flow.shutdown("send");
}

/** The module's URL, for `handlerModule` (the `.ts` source when run from source, else `.js`). */
export const echoHandlerModule: URL = new URL(import.meta.url);

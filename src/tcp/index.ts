/**
 * `Tcp` (Async's `Tcp`): TCP and Unix-socket clients and servers in Async's style — no switch
 * to pass, `Reader`/`Writer` sugar, connection limits and handler-error policies — written
 * once over the `Net` contract, so they run on the real backend and on `weir/mock` alike.
 * The `Net` comes from the `net` option, or from the running env (`run`, `Mock.Backend.runFull`).
 * @example
 * ```ts
 * await run(async (env) => {
 *   const server = await Tcp.Server.create(
 *     Tcp.WhereToListen.onPortChosenByOs({ host: "127.0.0.1" }),
 *     async (_addr, reader, writer) => {
 *       for await (const line of reader.lines()) writer.writeLine(line);
 *     },
 *     { net: env.net, onHandlerError: "raise" },
 *   );
 *   const reply = await Tcp.withConnection(
 *     Tcp.WhereToConnect.hostAndPort("127.0.0.1", server.listeningOn),
 *     async ({ reader, writer }) => {
 *       writer.writeLine("hello");
 *       return await reader.readLine();
 *     },
 *     { net: env.net },
 *   );
 *   await server.close({ closeExistingConnections: true });
 * });
 * ```
 * @module
 */
import { connect, connectSock, withConnection } from "./client.ts";
import { Reader } from "./reader.ts";
import { Server } from "./server.ts";
import { WhereToConnect } from "./where-to-connect.ts";
import { WhereToListen } from "./where-to-listen.ts";
import { Writer } from "./writer.ts";

export {
  type Connection,
  type ConnectOptions,
  type ConnectSockOptions,
  DEFAULT_CONNECT_TIMEOUT,
  type WithConnectionOptions,
} from "./client.ts";
export type { TcpEnvOptions } from "./env.ts";
export {
  ConnectionAttemptAborted,
  ConnectionAttemptTimeout,
  ReaderBusy,
  WriterBufferAgeExceeded,
  WriterBufferLimitExceeded,
} from "./errors.ts";
export { DEFAULT_READER_BUFFER_SIZE, type ReaderOptions, type ReadUntilOptions } from "./reader.ts";
export {
  type CreateServerOptions,
  defaultMaxConnections,
  type OnHandlerError,
  type ReaderWriterHandler,
  type ServerCloseOptions,
  type ServerOptions,
  type SockHandler,
} from "./server.ts";
export type { ViaLocalInterface } from "./where-to-connect.ts";
export type { OnPortOptions, WhereToListenInet, WhereToListenUnix } from "./where-to-listen.ts";
export {
  type BufferAgeLimit,
  DEFAULT_BUFFER_AGE_LIMIT,
  DEFAULT_FORCE_CLOSE_AFTER,
  type WriterCloseOptions,
  type WriterOptions,
} from "./writer.ts";

/** Where a Tcp client connects (see `where-to-connect.ts`). */
export type TcpWhereToConnect = WhereToConnect;
/** Where a Tcp server listens (see `where-to-listen.ts`). */
export type TcpWhereToListen<
  A extends import("../net/sockaddr.ts").StreamAddr = import("../net/sockaddr.ts").StreamAddr,
  L = unknown,
> = WhereToListen<A, L>;
/** A Tcp server (see `server.ts`). */
export type TcpServer<
  A extends import("../net/sockaddr.ts").StreamAddr = import("../net/sockaddr.ts").StreamAddr,
  L = unknown,
> = Server<A, L>;
/** A Tcp reader (Async's `Reader`). */
export type TcpReader = Reader;
/** A Tcp writer (Async's `Writer`). */
export type TcpWriter = Writer;

/**
 * Async's `Tcp`: `WhereToConnect`, `WhereToListen`, `connect`, `connectSock`,
 * `withConnection`, `Server` (`Tcp.Server.create`, `Tcp.Server.createSock`), and the `Reader`
 * and `Writer` classes.
 */
export const Tcp = Object.freeze({
  WhereToConnect,
  WhereToListen,
  connect,
  connectSock,
  withConnection,
  Server,
  Reader,
  Writer,
});

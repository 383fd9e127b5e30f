/**
 * `Net` (Eio's `Eio.Net`): addresses, the network contract, and the operations written once
 * against it.
 * @module
 */
import { connectHappyEyeballs, interleaveFamilies } from "./happy-eyeballs.ts";
import { acceptFork } from "./listening-socket-base.ts";
import { runServer } from "./run-server.ts";
import { serverStats } from "./server-stats.ts";
import type { Net as NetCapability } from "./types.ts";
import { withTcpConnect } from "./with-tcp-connect.ts";

export { currentEnv, currentEnvOpt, type Env } from "./env.ts";
export {
  type ConnectHappyEyeballsOptions,
  DEFAULT_HAPPY_EYEBALLS_DELAY,
  type HappyEyeballsOptions,
} from "./happy-eyeballs.ts";
export { Ipaddr } from "./ipaddr.ts";
export { acceptFork, ListeningSocketBase } from "./listening-socket-base.ts";
export {
  type ConnectAttemptMessage,
  type ConnectionCloseMessage,
  type ConnectionOpenMessage,
  type ConnectionOutcome,
  type ConnectionTimeoutMessage,
  type MetricsChannel,
  MetricsChannels,
  type ServerErrorMessage,
  type ServerLimitMessage,
} from "./metrics.ts";
export {
  type BackendListenOptions,
  checkSwitch,
  NetBase,
  type UnboundDatagram,
  withContext,
} from "./net-base.ts";
export {
  ProxiedSocket,
  type ProxyHeader,
  type ProxyHeaderFault,
  ProxyProtocol,
  type ProxyProtocolMode,
  type ProxyTlv,
} from "./proxy-protocol/index.ts";
export { type ConnectionLimit, type RunServerOptions, serveLoop } from "./run-server.ts";
export type { ServerStats } from "./server-stats.ts";
export {
  type DatagramAddr,
  Sockaddr,
  type SockaddrLike,
  type StreamAddr,
  type TcpAddr,
  type UdpAddr,
  type UnixAddr,
} from "./sockaddr.ts";
export type {
  AcceptForkOptions,
  AcceptOptions,
  ConnectionHandler,
  ConnectOptions,
  DatagramOptions,
  DatagramSocket,
  DomainManager,
  DomainServerOptions,
  GetaddrinfoOptions,
  KeepAlive,
  ListeningSocket,
  ListenOptions,
  Pem,
  RecvResult,
  SendOptions,
  StreamSocket,
  TlsCertificate,
  TlsConnectOptions,
  TlsListenOptions,
  TlsServerContext,
  TlsSocket,
} from "./types.ts";
export type { TcpConnectOptions } from "./with-tcp-connect.ts";

/** The network capability (Eio's `Net.t`): see `types.ts`. */
export type Net = NetCapability;

/**
 * The generic network operations (Eio's `Net.with_tcp_connect`, `run_server`, `accept_fork`),
 * Happy Eyeballs (RFC 8305) connecting (`connectHappyEyeballs` and the address order
 * `interleaveFamilies`), and a server's figures (`serverStats`: see docs/metrics.md).
 */
export const Net = {
  withTcpConnect,
  runServer,
  serverStats,
  acceptFork,
  connectHappyEyeballs,
  interleaveFamilies,
};

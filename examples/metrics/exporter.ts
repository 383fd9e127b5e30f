/**
 * weir's metrics in prom-client: subscribes to the `weir:*` channels of
 * `node:diagnostics_channel` and counts what they say in Prometheus counters and histograms,
 * and reads `Net.serverStats` of the servers given for the gauges (open and waiting
 * connections) at each scrape. Nothing in weir knows about Prometheus: this file is all it takes.
 * @module
 */
import { subscribe, unsubscribe } from "node:diagnostics_channel";
import { Counter, Gauge, Histogram, type Registry } from "prom-client";
import {
  type ConnectAttemptMessage,
  type ConnectionCloseMessage,
  type ConnectionOpenMessage,
  type ConnectionTimeoutMessage,
  type ListeningSocket,
  MetricsChannels,
  Net,
  type ServerErrorMessage,
  type ServerLimitMessage,
  Sockaddr,
  type StreamAddr,
} from "weir";

const name = (a: StreamAddr | undefined): string => (a === undefined ? "" : Sockaddr.format(a));

/** Durations from 1 ms to 5 minutes, for connections and for connects. */
const SECONDS = [0.001, 0.005, 0.025, 0.1, 0.5, 1, 5, 30, 120, 300];

/**
 * Registers weir's metrics in `register` (each name starts with `weir_`) and starts counting;
 * `servers` are the listening sockets whose open and waiting connections the gauges show.
 * Disposing of the result unsubscribes (the metrics stay registered, with their values).
 * @throws Error (prom-client's) if `register` already has a metric of the same name.
 * @example
 * ```ts
 * const register = new Registry();
 * using _metrics = exportWeirMetrics(register, [listener]);
 * const text = await register.metrics(); // the Prometheus text format
 * ```
 */
export function exportWeirMetrics(
  register: Registry,
  servers: readonly ListeningSocket[],
): Disposable {
  const registers = [register];
  const opened = new Counter({
    name: "weir_connections_opened_total",
    help: "Connections a server accepted",
    labelNames: ["server"],
    registers,
  });
  const closed = new Counter({
    name: "weir_connections_closed_total",
    help: "Connections a server closed, by how they ended (ok, error, timeout, closed, refused)",
    labelNames: ["server", "outcome"],
    registers,
  });
  const duration = new Histogram({
    name: "weir_connection_duration_seconds",
    help: "How long a server's connections lasted, accept to close",
    labelNames: ["server"],
    buckets: SECONDS,
    registers,
  });
  const received = new Counter({
    name: "weir_connection_received_bytes_total",
    help: "Bytes received on a server's connections, counted when each closes",
    labelNames: ["server"],
    registers,
  });
  const sent = new Counter({
    name: "weir_connection_sent_bytes_total",
    help: "Bytes sent on a server's connections, counted when each closes",
    labelNames: ["server"],
    registers,
  });
  const timeouts = new Counter({
    name: "weir_connection_timeouts_total",
    help: "Connections closed by a deadline (idle, header)",
    labelNames: ["during"],
    registers,
  });
  const attempts = new Counter({
    name: "weir_connect_attempts_total",
    help: "Outgoing connect attempts, by outcome (connected, failed, cancelled)",
    labelNames: ["outcome"],
    registers,
  });
  const connectDuration = new Histogram({
    name: "weir_connect_duration_seconds",
    help: "How long outgoing connect attempts took",
    labelNames: ["outcome"],
    buckets: SECONDS,
    registers,
  });
  const errors = new Counter({
    name: "weir_server_errors_total",
    help: "Errors of servers' handlers and accepts",
    labelNames: ["server", "during"],
    registers,
  });
  const full = new Counter({
    name: "weir_server_limit_reached_total",
    help: "How often a server was at maxConnections",
    labelNames: ["server"],
    registers,
  });
  new Gauge({
    name: "weir_server_connections",
    help: "Connections of a server now: open (being served) or waiting (header phase, slot)",
    labelNames: ["server", "state"],
    registers,
    collect() {
      for (const l of servers) {
        const s = Net.serverStats(l);
        const server = name(l.listeningAddr);
        this.set({ server, state: "open" }, s.open);
        this.set({ server, state: "waiting" }, s.waiting);
      }
    },
  });

  const handlers: Array<[string, (m: unknown) => void]> = [
    [
      MetricsChannels.connectionOpen,
      (m) => opened.inc({ server: name((m as ConnectionOpenMessage).server) }),
    ],
    [
      MetricsChannels.connectionClose,
      (m) => {
        const c = m as ConnectionCloseMessage;
        const server = name(c.server);
        closed.inc({ server, outcome: c.outcome });
        duration.observe({ server }, c.durationMs / 1000);
        received.inc({ server }, c.bytesIn);
        sent.inc({ server }, c.bytesOut);
      },
    ],
    [
      MetricsChannels.connectionTimeout,
      (m) => timeouts.inc({ during: (m as ConnectionTimeoutMessage).during }),
    ],
    [
      MetricsChannels.connectAttempt,
      (m) => {
        const a = m as ConnectAttemptMessage;
        attempts.inc({ outcome: a.outcome });
        connectDuration.observe({ outcome: a.outcome }, a.durationMs / 1000);
      },
    ],
    [
      MetricsChannels.serverError,
      (m) => {
        const e = m as ServerErrorMessage;
        errors.inc({ server: name(e.server), during: e.during });
      },
    ],
    [
      MetricsChannels.serverLimit,
      (m) => full.inc({ server: name((m as ServerLimitMessage).server) }),
    ],
  ];
  for (const [channel, f] of handlers) subscribe(channel, f);
  return {
    [Symbol.dispose]() {
      for (const [channel, f] of handlers) unsubscribe(channel, f);
    },
  };
}

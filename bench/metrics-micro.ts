/**
 * What the serve loop's metrics cost per connection, in this process: `ServeMetrics.accepted`
 * and `.served` (the counters, and the open and close messages when someone listens) on a
 * stand-in socket, a million times, without and with a subscriber on every `weir:*` channel,
 * interleaved three times each; the median ns per connection of each. Used by
 * bench/metrics-ratio.ts.
 * @module
 */
import { subscribe, unsubscribe } from "node:diagnostics_channel";
import { MetricsChannels } from "../src/net/metrics.ts";
import { ServeMetrics } from "../src/net/serve-metrics.ts";
import { Sockaddr } from "../src/net/sockaddr.ts";
import type { StreamSocket } from "../src/net/types.ts";

/** Median ns per connection (open + close) without (`off`) and with (`on`) a subscriber. */
export function metricsPerConnection(n = 1_000_000): { off: number; on: number } {
  const loop = { numConnections: 0, numWaiting: 0, connections: new Set<never>() };
  const m = new ServeMetrics(loop);
  const server = Sockaddr.stream("tcp:127.0.0.1:80");
  m.attach({ listeningAddr: server });
  const sock = { bytesRead: 64, bytesWritten: 64, idleTimedOut: false } as StreamSocket;
  const peer = Sockaddr.stream("tcp:127.0.0.1:40000");
  let seen = 0;
  const onMessage = (msg: unknown): void => {
    if ((msg as { id: number }).id > 0) seen++;
  };
  const round = (): number => {
    const t = performance.now();
    for (let i = 0; i < n; i++) {
      const a = m.accepted(sock, peer);
      m.served({ sock, addr: peer, id: a.id, openedAt: a.at, forced: false }, false, undefined);
    }
    return ((performance.now() - t) * 1e6) / n;
  };
  const names = Object.values(MetricsChannels);
  const off: number[] = [];
  const on: number[] = [];
  for (let r = 0; r < 6; r++) {
    const sub = r % 2 === 1;
    for (const c of names) (sub ? subscribe : unsubscribe)(c, onMessage);
    (sub ? on : off).push(round());
  }
  for (const c of names) unsubscribe(c, onMessage);
  if (seen !== 3 * 2 * n) throw new Error(`the subscriber saw ${seen} messages`);
  const med = (xs: number[]): number => [...xs].sort((a, b) => a - b)[1] as number;
  return { off: med(off), on: med(on) };
}

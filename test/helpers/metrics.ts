/**
 * Subscribing to weir's metrics channels in tests: every message as a trace line (ids
 * renumbered in order of appearance, so traces compare whole), or as the messages themselves.
 * Each helper unsubscribes when its function ends, whatever happens; the leak check
 * (`setup.ts`) fails a test that leaves a subscriber.
 */
import { hasSubscribers, subscribe, unsubscribe } from "node:diagnostics_channel";
import { traceln } from "../../src/core/index.ts";
import {
  type ConnectAttemptMessage,
  type ConnectionCloseMessage,
  type ConnectionOpenMessage,
  type ConnectionTimeoutMessage,
  MetricsChannels,
  type ServerErrorMessage,
  type ServerLimitMessage,
} from "../../src/net/metrics.ts";
import { Sockaddr, type StreamAddr } from "../../src/net/sockaddr.ts";

/** A message with the channel it came on. */
export type Recorded =
  | { readonly channel: "weir:connection:open"; readonly msg: ConnectionOpenMessage }
  | { readonly channel: "weir:connection:close"; readonly msg: ConnectionCloseMessage }
  | { readonly channel: "weir:connection:timeout"; readonly msg: ConnectionTimeoutMessage }
  | { readonly channel: "weir:connect:attempt"; readonly msg: ConnectAttemptMessage }
  | { readonly channel: "weir:server:error"; readonly msg: ServerErrorMessage }
  | { readonly channel: "weir:server:limit"; readonly msg: ServerLimitMessage };

const names = Object.values(MetricsChannels);

/** The weir channels that have a subscriber now (for the leak check). */
export function subscribedChannels(): string[] {
  return names.filter((n) => hasSubscribers(n));
}

/** Runs `fn` with a subscriber on every weir channel; returns what `fn` returned and the messages. */
export async function recordMetrics<T>(
  fn: () => T | Promise<T>,
): Promise<{ value: T; messages: Recorded[] }> {
  const messages: Recorded[] = [];
  const subs = names.map((channel) => {
    const f = (msg: unknown): void => {
      messages.push({ channel, msg } as Recorded);
    };
    subscribe(channel, f);
    return [channel, f] as const;
  });
  try {
    const value = await fn();
    return { value, messages };
  } finally {
    for (const [channel, f] of subs) unsubscribe(channel, f);
  }
}

const addr = (a: StreamAddr | undefined): string => (a === undefined ? "-" : Sockaddr.format(a));
const err = (e: unknown): string =>
  e instanceof Error ? `${e.name}: ${e.message.split("\n")[0]}` : String(e);

/** One message as a line; `id` gives the connection's number in the trace. */
export function formatMetric(r: Recorded, id: (n: number) => number): string {
  switch (r.channel) {
    case "weir:connection:open":
      return `${r.channel} #${id(r.msg.id)} from ${addr(r.msg.peer)} on ${addr(r.msg.server)}`;
    case "weir:connection:close": {
      const m = r.msg;
      const how = m.outcome === "timeout" ? `timeout ${m.timeout}` : m.outcome;
      const e = m.error === undefined ? "" : ` (${err(m.error)})`;
      return `${r.channel} #${id(m.id)} ${how}${e}, ${m.bytesIn} in, ${m.bytesOut} out, ${m.durationMs} ms`;
    }
    case "weir:connection:timeout":
      return `${r.channel} ${r.msg.during} ${r.msg.ms} ms, peer ${addr(r.msg.peer)}`;
    case "weir:connect:attempt": {
      const m = r.msg;
      const e = m.error === undefined ? "" : ` (${err(m.error)})`;
      return `${r.channel} ${addr(m.addr)} ${m.outcome}${e} after ${m.durationMs} ms`;
    }
    case "weir:server:error": {
      const m = r.msg;
      const peer = m.peer === undefined ? "" : ` from ${addr(m.peer)}`;
      return `${r.channel} ${m.during}${peer}: ${err(m.error)}`;
    }
    case "weir:server:limit":
      return `${r.channel} on ${addr(r.msg.server)}: ${r.msg.open} open, limit ${r.msg.limit}`;
  }
}

/**
 * Runs `fn` with every weir message traced as it comes (with `traceln`: on the mock, into the
 * transcript between the lines it belongs with).
 */
export async function traceMetrics<T>(fn: () => T | Promise<T>): Promise<T> {
  const ids = new Map<number, number>();
  const id = (n: number): number => {
    let k = ids.get(n);
    if (k === undefined) {
      k = ids.size + 1;
      ids.set(n, k);
    }
    return k;
  };
  const subs = names.map((channel) => {
    const f = (msg: unknown): void => {
      traceln("%s", formatMetric({ channel, msg } as Recorded, id));
    };
    subscribe(channel, f);
    return [channel, f] as const;
  });
  try {
    return await fn();
  } finally {
    for (const [channel, f] of subs) unsubscribe(channel, f);
  }
}

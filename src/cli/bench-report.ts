/**
 * What `weir bench` prints: the progress line, the summary (text with a histogram, or one
 * JSON object).
 * @module
 */
import type { BenchMode, BenchStats } from "./bench-load.ts";
import { formatBytes, formatCount, formatNs, formatSeconds, formatSize } from "./format.ts";
import type { Histogram } from "./histogram.ts";

/** How a bench run was set up. */
export interface BenchSetup {
  /** The load pattern. */
  readonly mode: BenchMode;
  /** The echo server's address, as text. */
  readonly target: string;
  /** Whether weir bench started the echo server itself. */
  readonly inProcess: boolean;
  /** Connections (pingpong, stream) or workers (connrate). */
  readonly connections: number;
  /** Message or chunk size in bytes. */
  readonly size: number;
  /** Stream mode's window per connection, in bytes. */
  readonly window: number;
  /** The measured duration asked for, in ms. */
  readonly durationMs: number;
  /** The warm-up, in ms. */
  readonly warmupMs: number;
  /** Whether every echoed byte was checked. */
  readonly verify: boolean;
}

/** The results of a bench run, as `--json` prints them. */
export interface BenchResult {
  readonly mode: BenchMode;
  readonly target: string;
  readonly server: "in-process" | "external";
  readonly connections: number;
  readonly size: number;
  readonly window: number | null;
  readonly warmupS: number;
  readonly durationS: number;
  readonly elapsedS: number;
  readonly interrupted: boolean;
  readonly verified: boolean;
  /** What a request is in this mode: a message, a chunk or a connection. */
  readonly unit: "message" | "chunk" | "connection";
  readonly requests: { readonly sent: number; readonly answered: number };
  readonly requestsPerS: number;
  readonly bytes: { readonly sent: number; readonly received: number };
  readonly bytesPerS: number;
  readonly latencyUs: {
    readonly min: number;
    readonly p50: number;
    readonly p90: number;
    readonly p99: number;
    readonly p999: number;
    readonly max: number;
    readonly mean: number;
  };
  readonly histogram: ReadonlyArray<{ readonly leUs: number; readonly count: number }>;
}

const UNIT = { pingpong: "message", stream: "chunk", connrate: "connection" } as const;

const us = (ns: number): number => Math.round(ns / 10) / 100;

/** The results of `stats` for `setup`. */
export function benchResult(
  setup: BenchSetup,
  stats: BenchStats,
  interrupted: boolean,
): BenchResult {
  const h = stats.latency;
  const elapsedMs = stats.elapsedMs;
  const secs = elapsedMs / 1000;
  const bytesSent = stats.sent * setup.size;
  const bytesReceived = stats.answered * setup.size;
  return {
    mode: setup.mode,
    target: setup.target,
    server: setup.inProcess ? "in-process" : "external",
    connections: setup.connections,
    size: setup.size,
    window: setup.mode === "stream" ? setup.window : null,
    warmupS: setup.warmupMs / 1000,
    durationS: setup.durationMs / 1000,
    elapsedS: Math.round(elapsedMs) / 1000,
    interrupted,
    verified: setup.verify,
    unit: UNIT[setup.mode],
    requests: { sent: stats.sent, answered: stats.answered },
    requestsPerS: secs > 0 ? Math.round((stats.answered / secs) * 10) / 10 : 0,
    bytes: { sent: bytesSent, received: bytesReceived },
    bytesPerS: secs > 0 ? Math.round(bytesReceived / secs) : 0,
    latencyUs: {
      min: us(h.min),
      p50: us(h.percentile(50)),
      p90: us(h.percentile(90)),
      p99: us(h.percentile(99)),
      p999: us(h.percentile(99.9)),
      max: us(h.max),
      mean: us(h.mean),
    },
    histogram: h.rows(1000).map((r) => ({ leUs: r.le / 1000, count: r.count })),
  };
}

/** A 1-2-5 bound in ns, exactly: `500 µs`, `1 ms`, `20 ms`. */
function boundLabel(ns: number): string {
  if (ns < 1e3) return `${ns} ns`;
  if (ns < 1e6) return `${ns / 1e3} µs`;
  if (ns < 1e9) return `${ns / 1e6} ms`;
  return `${ns / 1e9} s`;
}

const BAR_WIDTH = 40;
const EIGHTHS = ["", "▏", "▎", "▍", "▌", "▋", "▊", "▉"];

function bar(count: number, max: number): string {
  if (count === 0) return "";
  const eighths = Math.max(1, Math.round((count / max) * BAR_WIDTH * 8));
  return "█".repeat(Math.floor(eighths / 8)) + (EIGHTHS[eighths % 8] as string);
}

/** The latency histogram as text: one row per bound (1-2-5 steps), with bars and cumulative %. */
export function histogramText(h: Histogram): string[] {
  const rows = h.rows(1000);
  if (rows.length === 0) return [];
  const max = Math.max(...rows.map((r) => r.count));
  const labels = rows.map((r) => `≤ ${boundLabel(r.le)}`);
  const lw = Math.max(...labels.map((l) => l.length));
  const counts = rows.map((r) => formatCount(r.count));
  const cw = Math.max(...counts.map((c) => c.length));
  let cum = 0;
  return rows.map((r, i) => {
    cum += r.count;
    const pct = `${((cum / h.count) * 100).toFixed(cum === h.count ? 0 : 2)}%`;
    const b = bar(r.count, max).padEnd(BAR_WIDTH + 1);
    return `    ${(labels[i] as string).padEnd(lw)}  ${(counts[i] as string).padStart(cw)}  ${b} ${pct.padStart(6)}`;
  });
}

/** The summary as text for people. */
export function summaryText(setup: BenchSetup, stats: BenchStats, r: BenchResult): string {
  const unit = r.unit;
  const what =
    setup.mode === "connrate"
      ? `${setup.connections} workers (connect, send ${formatSize(setup.size)}, read it back, close)`
      : setup.mode === "stream"
        ? `${setup.connections} connections, ${formatSize(setup.size)} chunks, window ${formatSize(setup.window)}`
        : `${setup.connections} connections, ${formatSize(setup.size)} messages`;
  const server = setup.inProcess ? " (echo server in this process, sharing its thread)" : "";
  const h = stats.latency;
  const lines = [
    `weir bench: ${setup.mode} against ${setup.target}${server}`,
    `  ${what}`,
    `  ${formatSeconds(stats.elapsedMs)} measured after ${formatSeconds(setup.warmupMs)} of warm-up${r.interrupted ? " (interrupted)" : ""}${setup.verify ? ", every echoed byte checked" : ""}`,
    "",
    `  ${`${unit}s`.padEnd(11)} ${formatCount(r.requests.sent)} sent, ${formatCount(r.requests.answered)} answered (${formatCount(r.requestsPerS)}/s)`,
    `  ${"throughput".padEnd(11)} ${formatBytes(r.bytesPerS)}/s each way (${formatBytes(r.bytes.sent)} sent, ${formatBytes(r.bytes.received)} received)`,
    `  ${"latency".padEnd(11)} p50 ${formatNs(h.percentile(50))}  p90 ${formatNs(h.percentile(90))}  p99 ${formatNs(h.percentile(99))}  p99.9 ${formatNs(h.percentile(99.9))}  max ${formatNs(h.max)}`,
    `  ${"".padEnd(11)} min ${formatNs(h.min)}  mean ${formatNs(h.mean)}`,
  ];
  const hist = histogramText(h);
  if (hist.length > 0) lines.push("", `  latency histogram (${unit} round trips):`, ...hist);
  return lines.join("\n");
}

/**
 * One progress line: the time since the start, the phase, the rate and latencies of the
 * answers since the last line (`stats.interval`, over `sinceMs`), and the measured total.
 */
export function progressLine(
  stats: BenchStats,
  elapsedMs: number,
  sinceMs: number,
  size: number,
): string {
  const iv = stats.interval;
  const rate = sinceMs > 0 ? (iv.count / sinceMs) * 1000 : 0;
  const phase =
    stats.phase === "warmup" ? "warm-up" : stats.phase === "done" ? "draining" : "measuring";
  const t = `${(elapsedMs / 1000).toFixed(1)}s`.padStart(6);
  if (iv.count === 0) return `${t} ${phase.padEnd(9)}  no answers`;
  return (
    `${t} ${phase.padEnd(9)}  ${formatCount(rate).padStart(9)}/s  ${formatBytes(rate * size).padStart(8)}/s` +
    `  p50 ${formatNs(iv.percentile(50)).padStart(7)}  p99 ${formatNs(iv.percentile(99)).padStart(7)}` +
    `  total ${formatCount(stats.answered)}`
  );
}

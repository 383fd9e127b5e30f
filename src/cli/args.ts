/**
 * Argument parsing shared by the `weir` commands: `node:util` `parseArgs` with usage errors
 * that name the bad argument, number and duration options, and addresses in weir's text form
 * (`tcp:127.0.0.1:7000`, `unix:/path`) or as `host:port`, `[::1]:port`, a bare port or a path.
 * @module
 */
import { type ParseArgsConfig, parseArgs } from "node:util";
import { Ipaddr, Sockaddr, type StreamAddr } from "../net/index.ts";

/**
 * A mistake in the command line: exit status 2, the message printed with a pointer to
 * `--help`. The message names the argument and the value, with no final period.
 * @example
 * ```ts
 * throw new UsageError("--connections must be an integer in 1..10000, got \"0\"");
 * ```
 */
export class UsageError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "UsageError";
  }
}

/** What `parseArgs` returns for a given configuration. */
export type Parsed<T extends ParseArgsConfig> = ReturnType<typeof parseArgs<T>>;

/**
 * Runs `parseArgs` on `args` (strict, positionals allowed, `--no-X` for booleans), turning its
 * errors into {@link UsageError}s and checking the number of positionals.
 * @throws UsageError for an unknown option, a missing option value, or too many or too few
 *   positionals.
 * @example
 * ```ts
 * const { values, positionals } = parseCommand(["--json", "x"], { json: { type: "boolean" } }, [0, 1]);
 * ```
 */
export function parseCommand<O extends NonNullable<ParseArgsConfig["options"]>>(
  args: readonly string[],
  options: O,
  positionals: readonly [min: number, max: number],
): Parsed<{
  args: string[];
  options: O;
  strict: true;
  allowPositionals: true;
  allowNegative: true;
}> {
  let parsed: Parsed<{
    args: string[];
    options: O;
    strict: true;
    allowPositionals: true;
    allowNegative: true;
  }>;
  try {
    parsed = parseArgs({
      args: [...args],
      options,
      strict: true,
      allowPositionals: true,
      allowNegative: true,
    });
  } catch (e) {
    throw new UsageError(parseArgsMessage(e), { cause: e });
  }
  const [min, max] = positionals;
  const n = parsed.positionals.length;
  if (n > max) {
    const extra = parsed.positionals[max] as string;
    throw new UsageError(`unexpected argument ${JSON.stringify(extra)}`);
  }
  if (n < min) throw new UsageError(`missing argument (expected ${min}, got ${n})`);
  return parsed;
}

/** Shortens Node's parseArgs messages to the part that names the argument. */
function parseArgsMessage(e: unknown): string {
  const msg = e instanceof Error ? e.message : String(e);
  // "Unknown option '--x'. To specify a positional argument starting with a '-', ..." -> first sentence
  const first = msg.split(". To specify")[0] ?? msg;
  return first.replace(/^Unknown option/, "unknown option").replace(/^Option/, "option");
}

/** Bounds for {@link intOption}. */
export interface IntBounds {
  readonly min: number;
  readonly max: number;
}

/**
 * Reads an integer option: `undefined` gives `fallback`, anything else must be a decimal
 * integer within `bounds`.
 * @throws UsageError naming `--name` and the value.
 */
export function intOption(
  name: string,
  text: string | undefined,
  fallback: number,
  bounds: IntBounds,
): number {
  if (text === undefined) return fallback;
  const n = /^[0-9]+$/.test(text.trim()) ? Number(text.trim()) : Number.NaN;
  if (!Number.isSafeInteger(n) || n < bounds.min || n > bounds.max) {
    throw new UsageError(
      `--${name} must be an integer in ${bounds.min}..${bounds.max}, got ${JSON.stringify(text)}`,
    );
  }
  return n;
}

/**
 * Reads a duration option and returns milliseconds. The text is a number with an optional
 * unit `ms`, `s` or `m`; a bare number is in `bareUnit` (`"s"` for `--duration 1.5`, `"ms"`
 * for `--drain-ms 500`).
 * @throws UsageError naming `--name` and the value if it is not a duration within `maxMs`.
 */
export function durationOption(
  name: string,
  text: string | undefined,
  fallbackMs: number,
  opts: { readonly bareUnit: "s" | "ms"; readonly maxMs: number; readonly minMs?: number },
): number {
  if (text === undefined) return fallbackMs;
  const m = /^\s*([0-9]+(?:\.[0-9]*)?|\.[0-9]+)\s*(ms|s|m)?\s*$/.exec(text);
  const unit = m?.[2] ?? opts.bareUnit;
  const scale = unit === "ms" ? 1 : unit === "s" ? 1000 : 60_000;
  const ms = m === null ? Number.NaN : Number(m[1]) * scale;
  const minMs = opts.minMs ?? 0;
  if (!(ms >= minMs && ms <= opts.maxMs)) {
    const range = `${fmtMs(minMs, opts.bareUnit)}..${fmtMs(opts.maxMs, opts.bareUnit)}`;
    throw new UsageError(
      `--${name} must be a duration in ${range} (e.g. ${opts.bareUnit === "s" ? "2, 1.5s or 500ms" : "500 or 2s"}), got ${JSON.stringify(text)}`,
    );
  }
  return ms;
}

function fmtMs(ms: number, unit: "s" | "ms"): string {
  return unit === "s" ? `${ms / 1000}s` : `${ms}ms`;
}

/**
 * Reads an option that takes one of a fixed set of words.
 * @throws UsageError naming `--name`, the value and the choices.
 */
export function choiceOption<C extends string>(
  name: string,
  text: string | undefined,
  fallback: C,
  choices: readonly C[],
): C {
  if (text === undefined) return fallback;
  if ((choices as readonly string[]).includes(text)) return text as C;
  throw new UsageError(
    `--${name} must be one of ${choices.join(", ")}, got ${JSON.stringify(text)}`,
  );
}

/**
 * Where a command connects to or listens on: an address, or a host name and a service to
 * look up with getaddrinfo.
 */
export type Endpoint =
  | { readonly kind: "addr"; readonly addr: StreamAddr }
  | { readonly kind: "name"; readonly host: string; readonly service: string };

/** What an address is for: listening allows port 0 (the OS picks one). */
export type EndpointRole = "listen" | "connect";

const PORT = /^[0-9]{1,5}$/;
const SERVICE = /^[A-Za-z][A-Za-z0-9_-]*$/;
const IPV4_LIKE = /^[0-9.]+$/;
const HOST_NAME = /^[A-Za-z0-9_]([A-Za-z0-9_.-]*[A-Za-z0-9_.])?$/;
const FORMS = "expected tcp:HOST:PORT, unix:PATH, HOST:PORT, [IPV6]:PORT, PORT or a path";

/**
 * Reads an address argument. Accepted forms: weir's text form (`tcp:127.0.0.1:7000`,
 * `tcp:[::1]:7000`, `unix:/tmp/x.sock`, `unix:@abstract`), `tcp:NAME:PORT`, `HOST:PORT`
 * (`127.0.0.1:7000`, `localhost:7000`, `localhost:http`), `[::1]:7000`, a bare `PORT`
 * (meaning 127.0.0.1, never every interface), and a path starting with `/` or `./` (a Unix
 * socket).
 * @throws UsageError naming `what` and the text if it is none of these, or port 0 is given
 *   where a connection is made.
 * @example
 * ```ts
 * parseEndpoint("--to", "localhost:7000", "connect"); // { kind: "name", host: "localhost", service: "7000" }
 * ```
 */
export function parseEndpoint(what: string, text: string, role: EndpointRole): Endpoint {
  const bad = (why: string): UsageError =>
    new UsageError(`${what}: invalid address ${JSON.stringify(text)} (${why})`);
  let ep: Endpoint;
  if (text.startsWith("unix:") || text.startsWith("/") || text.startsWith("./")) {
    const path = text.startsWith("unix:") ? undefined : text;
    try {
      ep = { kind: "addr", addr: path === undefined ? Sockaddr.stream(text) : Sockaddr.unix(path) };
    } catch (e) {
      throw bad(e instanceof Error ? e.message : String(e));
    }
    if (ep.kind === "addr" && ep.addr.type === "unix" && ep.addr.path === "") {
      throw bad("empty Unix path");
    }
    return ep;
  }
  if (text.startsWith("udp:")) throw bad("weir works with stream sockets: use tcp: or unix:");
  const rest = text.startsWith("tcp:") ? text.slice(4) : text;
  let host: string;
  let service: string;
  if (PORT.test(rest)) {
    host = "127.0.0.1";
    service = rest;
  } else if (rest.startsWith("[")) {
    const close = rest.indexOf("]");
    if (close < 0 || rest[close + 1] !== ":") throw bad(FORMS);
    host = rest.slice(1, close);
    service = rest.slice(close + 2);
    if (!host.includes(":")) throw bad("brackets are for IPv6 addresses");
  } else {
    const colon = rest.lastIndexOf(":");
    if (colon <= 0 || rest.indexOf(":") !== colon) throw bad(FORMS);
    host = rest.slice(0, colon);
    service = rest.slice(colon + 1);
  }
  let ip: Ipaddr | undefined;
  try {
    ip = Ipaddr.parse(host);
  } catch (e) {
    // digits and dots are an IPv4 address or nothing: never a name to look up (the resolver
    // would read "999.1.1.1" as a name, and "10.1" as 10.0.0.1)
    if (IPV4_LIKE.test(host) || host.includes(":")) {
      throw bad(e instanceof Error ? e.message : `bad IP address ${JSON.stringify(host)}`);
    }
    ip = undefined;
  }
  if (ip === undefined && !HOST_NAME.test(host)) throw bad(`bad host ${JSON.stringify(host)}`);
  if (PORT.test(service)) {
    const port = Number(service);
    if (port > 65535) throw bad(`port must be in 0..65535, got ${service}`);
    if (port === 0 && role === "connect") throw bad("cannot connect to port 0");
    if (ip !== undefined) return { kind: "addr", addr: Sockaddr.tcp(ip, port) };
    return { kind: "name", host, service };
  }
  if (!SERVICE.test(service)) throw bad(`bad port or service ${JSON.stringify(service)}`);
  return { kind: "name", host, service };
}

/**
 * Reads `--mode`: the permission bits of a Unix socket file, in octal (`660`, `0660`, `0o660`),
 * for an endpoint that is a Unix path.
 * @throws UsageError naming `--mode` and the value if it is not an octal mode in 0..777, or
 *   the endpoint is not a Unix path.
 * @example
 * ```ts
 * modeOption("660", parseEndpoint("ADDR", "unix:/tmp/s.sock", "listen")); // 0o660 (432)
 * ```
 */
export function modeOption(text: string | undefined, ep: Endpoint): number | undefined {
  if (text === undefined) return undefined;
  const m = /^(?:0o?)?([0-7]{1,3})$/.exec(text.trim());
  if (m === null) {
    throw new UsageError(
      `--mode must be an octal mode in 0..777 (e.g. 660), got ${JSON.stringify(text)}`,
    );
  }
  if (ep.kind !== "addr" || ep.addr.type !== "unix" || ep.addr.path.startsWith("\0")) {
    throw new UsageError(`--mode is for a Unix socket path, got ${formatEndpoint(ep)}`);
  }
  return Number.parseInt(m[1] as string, 8);
}

/** The endpoint as text, for messages: the address's text form or `"host":service`. */
export function formatEndpoint(ep: Endpoint): string {
  return ep.kind === "addr" ? Sockaddr.format(ep.addr) : `${JSON.stringify(ep.host)}:${ep.service}`;
}

/** Whether `addr` stays on this machine: a Unix socket or a loopback IP address. */
export function isLocal(addr: StreamAddr): boolean {
  return addr.type === "unix" || addr.host.isLoopback();
}

/**
 * Reads a byte-size option: an integer with an optional binary suffix (`64`, `16k`, `16KiB`,
 * `1m`, `1MiB`; k = 1024).
 * @throws UsageError naming `--name` and the value if it is not a size within `bounds`.
 */
export function sizeOption(
  name: string,
  text: string | undefined,
  fallback: number,
  bounds: IntBounds,
): number {
  if (text === undefined) return fallback;
  const m = /^\s*([0-9]+)\s*(k|K|KiB|kB|m|M|MiB|MB|b|B)?\s*$/.exec(text);
  const unit = m?.[2]?.[0]?.toLowerCase();
  const scale = unit === "k" ? 1024 : unit === "m" ? 1 << 20 : 1;
  const n = m === null ? Number.NaN : Number(m[1]) * scale;
  if (!Number.isSafeInteger(n) || n < bounds.min || n > bounds.max) {
    throw new UsageError(
      `--${name} must be a size in ${bounds.min}..${bounds.max} bytes (e.g. 64, 16k, 1m), got ${JSON.stringify(text)}`,
    );
  }
  return n;
}

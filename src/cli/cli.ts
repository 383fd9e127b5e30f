/**
 * `runCli`: the `weir` command line without the process around it: picks the command, runs
 * it, and turns what it throws into an exit status: 0 success, 1 a failure (an IoError's
 * message with its context lines, no stack trace), 2 a usage error (naming the bad argument).
 * @module
 */
import { readFileSync } from "node:fs";
import { UsageError } from "./args.ts";
import type { CommandEntry, CommandIo } from "./command.ts";
import { describeError } from "./errors.ts";

/** Every command, in the order `weir --help` lists them. */
export const commands: readonly CommandEntry[] = [
  {
    name: "bench",
    summary: "load-test an echo server (or, without ADDR, weir's own, in this process)",
    load: async () => (await import("./bench.ts")).bench,
  },
  {
    name: "echo",
    summary: "run an echo server",
    load: async () => (await import("./echo.ts")).echo,
  },
  {
    name: "proxy",
    summary: "forward connections from one address to another, both ways, with half-close",
    load: async () => (await import("./proxy.ts")).proxy,
  },
  {
    name: "connect",
    summary: "connect to ADDR: stdin to the socket, the socket to stdout (like nc)",
    load: async () => (await import("./connect.ts")).connect,
  },
  {
    name: "listen",
    summary: "accept a client on ADDR: stdin to it, it to stdout (like nc -l)",
    load: async () => (await import("./listen.ts")).listen,
  },
  {
    name: "resolve",
    summary: "look a host up: getaddrinfo results and the getnameinfo of each",
    load: async () => (await import("./resolve.ts")).resolve,
  },
];

/** The exit statuses of `weir`. */
export const ExitStatus = Object.freeze({ ok: 0, failure: 1, usage: 2 });

/** weir's version, from its package.json. */
function version(): string {
  try {
    const text = readFileSync(new URL("../../package.json", import.meta.url), "utf8");
    const v = (JSON.parse(text) as { version?: unknown }).version;
    return typeof v === "string" ? v : "unknown";
  } catch {
    return "unknown";
  }
}

function mainHelp(): string {
  const width = Math.max(...commands.map((c) => c.name.length));
  const list = commands.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`).join("\n");
  return `Usage: weir COMMAND [ARGS] [options]

weir's command line: network tools written on the weir library.

Commands:
${list}

Addresses: tcp:127.0.0.1:7000, tcp:[::1]:7000, unix:/path, HOST:PORT, [IPV6]:PORT, PORT.
Exit status: 0 success, 1 network failure, 2 usage error.
Run 'weir COMMAND --help' for a command's options.

Options:
  -h, --help     show this help
  -V, --version  show weir's version`;
}

/** Whether the arguments ask for help (before any `--`). */
function wantsHelp(args: readonly string[]): boolean {
  for (const a of args) {
    if (a === "--") return false;
    if (a === "--help" || a === "-h") return true;
  }
  return false;
}

function unknown(io: CommandIo, message: string): number {
  io.err(`weir: ${message}`);
  io.err(`Commands: ${commands.map((c) => c.name).join(", ")}. Try 'weir --help'.`);
  return ExitStatus.usage;
}

/**
 * Runs the `weir` command line `argv` (the arguments after the program name) and returns the
 * exit status. Never throws: errors are printed to `io.err`.
 * @example
 * ```ts
 * const status = await runCli(["resolve", "localhost"], io);
 * ```
 */
export async function runCli(argv: readonly string[], io: CommandIo): Promise<number> {
  const [name, ...rest] = argv;
  if (name === "--help" || name === "-h") {
    io.out(mainHelp());
    return ExitStatus.ok;
  }
  if (name === "--version" || name === "-V") {
    io.out(`weir ${version()}`);
    return ExitStatus.ok;
  }
  if (name === "help") {
    const entry = commands.find((c) => c.name === rest[0]);
    if (rest[0] !== undefined && entry === undefined) {
      return unknown(io, `unknown command ${JSON.stringify(rest[0])}`);
    }
    io.out(entry === undefined ? mainHelp() : (await entry.load()).help);
    return ExitStatus.ok;
  }
  if (name === undefined) return unknown(io, "missing command");
  if (name.startsWith("-")) return unknown(io, `unknown option ${JSON.stringify(name)}`);
  const entry = commands.find((c) => c.name === name);
  if (entry === undefined) return unknown(io, `unknown command ${JSON.stringify(name)}`);
  try {
    const cmd = await entry.load();
    if (wantsHelp(rest)) {
      io.out(cmd.help);
      return ExitStatus.ok;
    }
    return await cmd.main(rest, io);
  } catch (e) {
    if (e instanceof UsageError) {
      io.err(`weir ${name}: ${e.message}`);
      io.err(`Try 'weir ${name} --help'.`);
      return ExitStatus.usage;
    }
    io.err(`weir ${name}: ${describeError(e)}`);
    if (process.env.WEIR_DEBUG) io.err(String((e as Error | undefined)?.stack ?? ""));
    return ExitStatus.failure;
  }
}

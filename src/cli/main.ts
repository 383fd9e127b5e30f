#!/usr/bin/env node
/**
 * The `weir` executable: the only module of weir that reads `process.argv` or exits. It sets
 * the process up (compile cache, last-resort error handlers, EPIPE on stdout and stderr), runs
 * {@link runCli} and exits with its status once the output is written.
 * @module
 */
import { writeSync } from "node:fs";
import module from "node:module";
import type { CommandIo } from "./command.ts";

// Caches compiled code (and stripped TypeScript) between runs: `weir` starts several times
// faster. Before the imports below, so that they benefit too.
try {
  module.enableCompileCache?.();
} catch {
  // a read-only cache directory only costs speed
}

const { describeError } = await import("./errors.ts");
const { ExitStatus, runCli } = await import("./cli.ts");

/** The process's standard streams as a {@link CommandIo}. */
function processIo(): CommandIo {
  return {
    out: (line) => {
      process.stdout.write(`${line}\n`);
    },
    err: (line) => {
      process.stderr.write(`${line}\n`);
    },
    errRaw: (text) => {
      process.stderr.write(text);
    },
    stdoutIsTTY: process.stdout.isTTY === true,
    stderrIsTTY: process.stderr.isTTY === true,
  };
}

/** Exits once what was written to stdout and stderr has been handed to the OS. */
async function exit(status: number): Promise<never> {
  const flush = (s: NodeJS.WriteStream): Promise<void> =>
    new Promise((resolve) => {
      if (s.destroyed || s.writableEnded) resolve();
      else s.write("", () => resolve());
    });
  await Promise.all([flush(process.stdout), flush(process.stderr)]);
  process.exit(status);
}

// A last resort: a bug must still end with a message and status 1, never a crash dump.
const internal = (e: unknown): void => {
  process.stderr.write(`weir: internal error: ${describeError(e)}\n`);
  if (process.env.WEIR_DEBUG) process.stderr.write(`${(e as Error | undefined)?.stack}\n`);
  process.exit(ExitStatus.failure);
};
process.on("unhandledRejection", internal);
process.on("uncaughtException", internal);
// A reader that went away (`weir proxy ... | head -1`, `weir echo -v 2>&1 | head -1`): the
// output cannot be written, so stop with status 1 and say why on stderr if it still works
// (never on stdout, which may carry data). A server must not go on blind, nor end with 0.
const brokenPipe = (name: "standard output" | "standard error"): void => {
  if (name === "standard output") {
    try {
      writeSync(2, `weir: ${name} was closed by its reader (EPIPE): stopping\n`);
    } catch {
      // stderr is gone too
    }
  }
  process.exit(ExitStatus.failure);
};
for (const [name, s] of [
  ["standard output", process.stdout],
  ["standard error", process.stderr],
] as const) {
  s.on("error", (e: NodeJS.ErrnoException) => {
    if (e.code === "EPIPE") brokenPipe(name);
    else internal(e);
  });
}
await exit(await runCli(process.argv.slice(2), processIo()));

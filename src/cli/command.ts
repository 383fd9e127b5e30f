/**
 * The shape of a `weir` command, and what it may print to.
 * @module
 */

/** Where a command prints: whole lines to stdout and stderr, and whether they are terminals. */
export interface CommandIo {
  /** Writes `line` and a newline to stdout. */
  out(line: string): void;
  /** Writes `line` and a newline to stderr. */
  err(line: string): void;
  /** Writes `text` to stderr as it is (for a progress line redrawn with `\r`). */
  errRaw(text: string): void;
  /** Whether stdout is a terminal. */
  readonly stdoutIsTTY: boolean;
  /** Whether stderr is a terminal. */
  readonly stderrIsTTY: boolean;
}

/**
 * A `weir` command: its help text, and `main`, which parses the arguments after the command
 * name and returns the exit status. `main` throws `UsageError` for a bad command line and
 * IoError for a network failure; `runCli` turns those into exit statuses 2 and 1.
 */
export interface Command {
  /** The text `--help` prints. */
  readonly help: string;
  /** Runs the command with the arguments after its name; resolves with the exit status. */
  main(args: readonly string[], io: CommandIo): Promise<number>;
}

/** A command in the list of `weir --help`: loaded only when it runs, so `weir` starts fast. */
export interface CommandEntry {
  /** The name typed after `weir`. */
  readonly name: string;
  /** One line for the list of commands. */
  readonly summary: string;
  /** Imports the command's module. */
  load(): Promise<Command>;
}

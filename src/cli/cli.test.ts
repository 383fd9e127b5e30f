import { describe, expect, test } from "vitest";
import { runCli } from "./cli.ts";
import type { CommandIo } from "./command.ts";

/** Runs the CLI in this process (only for what fails before any I/O) and captures its output. */
async function cli(args: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = "";
  let err = "";
  const io: CommandIo = {
    out: (l) => {
      out += `${l}\n`;
    },
    err: (l) => {
      err += `${l}\n`;
    },
    errRaw: (t) => {
      err += t;
    },
    stdoutIsTTY: false,
    stderrIsTTY: false,
  };
  const code = await runCli(args, io);
  return { code, out, err };
}

describe("runCli()", () => {
  const usage: Array<[string[], RegExp]> = [
    [[], /^weir: missing command\n/],
    [["frobnicate"], /^weir: unknown command "frobnicate"\n/],
    [["--frobnicate"], /^weir: unknown option "--frobnicate"\n/],
    [["help", "frobnicate"], /^weir: unknown command "frobnicate"\n/],
    [["bench", "--connections", "0"], /--connections must be an integer in 1\.\.10000, got "0"/],
    [
      ["bench", "--connections", "1e3"],
      /--connections must be an integer in 1\.\.10000, got "1e3"/,
    ],
    [["bench", "--bogus"], /^weir bench: unknown option '--bogus'\n/],
    [["bench", "--mode"], /option '-m, --mode <value>' argument missing/],
    [["bench", "--mode", "flood"], /--mode must be one of pingpong, stream, connrate, got "flood"/],
    [
      ["bench", "--duration", "soon"],
      /--duration must be a duration in 0\.001s\.\.3600s .* got "soon"/,
    ],
    [["bench", "--duration", "0"], /--duration must be a duration .* got "0"/],
    [["bench", "--size", "-1"], /option '--size' argument is ambiguous/],
    [["bench", "--size=-1"], /--size must be a size in 1\.\.16777216 bytes .* got "-1"/],
    [["bench", "--size", "17m"], /--size must be a size .* got "17m"/],
    [["bench", "tcp:10.1.2.3:7"], /ADDR: tcp:10\.1\.2\.3:7 is not a loopback or Unix address/],
    [["bench", "[2001:db8::1]:7"], /ADDR: tcp:\[2001:db8::1\]:7 is not a loopback or Unix address/],
    [["bench", "a", "b"], /unexpected argument "b"/],
    [["echo", "tcp:127.0.0.1:99999"], /ADDR: invalid address "tcp:127\.0\.0\.1:99999"/],
    [["echo", "localhost"], /ADDR: invalid address "localhost" \(expected tcp:HOST:PORT/],
    [["echo", "--drain-ms", "x"], /--drain-ms must be a duration .* got "x"/],
    [
      ["echo", "--max-connections", "0"],
      /--max-connections must be an integer in 1\.\.1000000, got "0"/,
    ],
    [["echo", "unix:/tmp/x.sock", "--domains", "2"], /--domains needs a TCP address/],
    [["echo", "--domains", "999"], /--domains must be an integer in 0\.\.64, got "999"/],
    [["proxy", "--to", "127.0.0.1:7"], /^weir proxy: missing --listen ADDR\n/],
    [["proxy", "--listen", "0"], /^weir proxy: missing --to ADDR\n/],
    [
      ["proxy", "--listen", "0", "--to", "127.0.0.1:0"],
      /--to: invalid address "127\.0\.0\.1:0" \(cannot connect to port 0\)/,
    ],
    [
      ["proxy", "--listen", "0", "--to", "udp:127.0.0.1:53"],
      /--to: invalid address "udp:127\.0\.0\.1:53"/,
    ],
    [["proxy", "--listen", "0", "--to", "7", "extra"], /unexpected argument "extra"/],
    [["connect"], /missing argument \(expected 1, got 0\)/],
    [["connect", "127.0.0.1"], /ADDR: invalid address "127\.0\.0\.1"/],
    [["connect", "::1:80"], /ADDR: invalid address "::1:80"/],
    [
      ["connect", "127.0.0.1:7", "--connect-timeout-ms", "0"],
      /--connect-timeout-ms must be a duration/,
    ],
    [["listen", "--keep"], /missing argument/],
    [["listen", "unix:"], /ADDR: invalid address "unix:"/],
    [["resolve"], /missing argument/],
    [["resolve", "localhost", "--tcp", "--udp"], /--tcp and --udp exclude each other/],
    [["resolve", "", "80"], /HOST must not be empty/],
  ];

  test.each(usage)("weir %j exits 2 naming the bad argument", async (args, message) => {
    const r = await cli(args);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(message);
    expect(r.out).toBe("");
  });

  test("a usage error of a command points to its --help", async () => {
    const r = await cli(["echo", "--backlog", "x"]);
    expect(r.err).toBe(
      `weir echo: --backlog must be an integer in 0..65535, got "x"\nTry 'weir echo --help'.\n`,
    );
  });

  test("--help wins over other arguments, but not after --", async () => {
    expect((await cli(["bench", "--bogus", "--help"])).out).toMatch(/^Usage: weir bench/);
    expect((await cli(["connect", "--", "--help"])).code).toBe(2);
  });

  test("weir help lists the commands; weir help COMMAND is its --help", async () => {
    const all = await cli(["help"]);
    expect(all.out).toMatch(/^ {2}resolve {2}look a host up/m);
    expect((await cli(["help", "listen"])).out).toBe((await cli(["listen", "-h"])).out);
  });
});

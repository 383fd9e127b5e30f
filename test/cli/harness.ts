/**
 * Running the `weir` CLI and real peers (node:net here; socat, nc in the interop tests) as child processes in tests: waiting for
 * a line of their output, feeding their stdin, and killing and awaiting every one of them in
 * `afterEach` (call {@link cleanup}), so that no process or pipe outlives its test.
 */
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import net from "node:net";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

/** The repository's root. */
export const ROOT: string = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
/**
 * The Node that runs the tests (Node 24 from the dev dependencies under `npm test`; the
 * lowest supported Node under `npm run test:node22`): it runs the .ts sources by stripping
 * types.
 */
export const NODE: string = process.execPath;
/**
 * The CLI's entry: the TypeScript source, or what `WEIR_CLI_MAIN` names (e.g.
 * `dist/cli/main.js`, to run the suite against the build).
 */
export const MAIN: string = process.env.WEIR_CLI_MAIN ?? join(ROOT, "src", "cli", "main.ts");

/** How a process ended. */
export interface Exit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

/** A child process with its output collected. */
export class Proc {
  readonly name: string;
  readonly child: ChildProcess;
  readonly #out: Buffer[] = [];
  readonly #err: Buffer[] = [];
  /** Resolves when the process has exited and its pipes are closed. */
  readonly closed: Promise<Exit>;
  #listeners = new Set<() => void>();

  constructor(name: string, child: ChildProcess) {
    this.name = name;
    this.child = child;
    child.stdout?.on("data", (b: Buffer) => {
      this.#out.push(b);
      for (const f of this.#listeners) f();
    });
    child.stderr?.on("data", (b: Buffer) => {
      this.#err.push(b);
      for (const f of this.#listeners) f();
    });
    // a peer that exits before reading its stdin must not fail the test with EPIPE
    child.stdin?.on("error", () => {});
    this.closed = new Promise((resolve, reject) => {
      child.once("error", reject);
      child.once("close", (code, signal) => resolve({ code, signal }));
    });
  }

  /** Everything written to stdout so far, as UTF-8 text. */
  get stdout(): string {
    return this.stdoutBytes().toString("utf8");
  }

  /** Everything written to stderr so far, as UTF-8 text. */
  get stderr(): string {
    return Buffer.concat(this.#err).toString("utf8");
  }

  /** Everything written to stdout so far, as bytes. */
  stdoutBytes(): Buffer {
    return Buffer.concat(this.#out);
  }

  /**
   * Waits until `re` matches the output of `stream`, and returns the match.
   * @throws if the process ends first or nothing matches within `ms` (with the output so far).
   */
  waitFor(stream: "stdout" | "stderr", re: RegExp, ms = 15_000): Promise<RegExpMatchArray> {
    return new Promise((resolve, reject) => {
      const check = (): boolean => {
        const m = this[stream].match(re);
        if (m === null) return false;
        done();
        resolve(m);
        return true;
      };
      const timer = setTimeout(() => {
        done();
        reject(
          new Error(`${this.name}: no ${re} on ${stream} within ${ms} ms\n${this.describe()}`),
        );
      }, ms);
      const onClose = (): void => {
        if (check()) return;
        done();
        reject(new Error(`${this.name} ended before ${re} on ${stream}\n${this.describe()}`));
      };
      const done = (): void => {
        clearTimeout(timer);
        this.#listeners.delete(listener);
        this.child.off("close", onClose);
      };
      const listener = (): void => {
        check();
      };
      if (check()) return;
      this.#listeners.add(listener);
      this.child.once("close", onClose);
    });
  }

  /** Waits for the process to end (killing it after `ms`, which then fails the wait). */
  async exit(ms = 15_000): Promise<Exit> {
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        this.child.kill("SIGKILL");
        reject(new Error(`${this.name} did not exit within ${ms} ms\n${this.describe()}`));
      }, ms);
    });
    try {
      return await Promise.race([this.closed, late]);
    } finally {
      clearTimeout(timer);
    }
  }

  /**
   * Sends `sig` to the process by its pid (`process.kill`), not `child.kill`: Deno 2.9's
   * `ChildProcess` reports the signal `kill()` sent as how the child ended, even when the child
   * caught it and exited 0, so a graceful stop could not be told from a killed one.
   */
  signal(sig: NodeJS.Signals): void {
    const pid = this.child.pid;
    if (pid === undefined || this.child.exitCode !== null) return;
    process.kill(pid, sig);
  }

  /** Sends `data` to the process's stdin and, if `end`, closes it. */
  write(data: string | Uint8Array, end = false): void {
    const stdin = this.child.stdin;
    if (stdin === null) throw new Error(`${this.name}: no stdin pipe`);
    if (end) stdin.end(data);
    else stdin.write(data);
  }

  /** The command and its output, for failure messages. */
  describe(): string {
    return `--- stdout:\n${this.stdout.slice(-2000)}\n--- stderr:\n${this.stderr.slice(-2000)}`;
  }
}

const live = new Set<Proc>();
const dirs: string[] = [];

/** Options of {@link start}. */
export interface StartOptions {
  /** What to send to stdin; it is then closed. Default: a pipe left open (use `write`). */
  readonly input?: string | Uint8Array | undefined;
  /** Extra environment variables. */
  readonly env?: Record<string, string> | undefined;
}

/** Starts `cmd args` with piped stdio; {@link cleanup} kills it if it is still running. */
export function start(cmd: string, args: readonly string[], opts: StartOptions = {}): Proc {
  const child = spawn(cmd, args, {
    cwd: ROOT,
    stdio: ["pipe", "pipe", "pipe"],
    env: { ...process.env, ...opts.env },
  });
  const p = new Proc(`${cmd.split("/").at(-1)} ${args.join(" ")}`, child);
  live.add(p);
  void p.closed.then(
    () => live.delete(p),
    () => live.delete(p),
  );
  if (opts.input !== undefined) p.write(opts.input, true);
  return p;
}

/** Starts `weir ARGS` (the CLI from source, on Node 24). */
export function weir(args: readonly string[], opts: StartOptions = {}): Proc {
  const p = start(NODE, [MAIN, ...args], opts);
  return p;
}

/** Runs `weir ARGS` to its end and returns its exit and output. */
export async function weirRun(
  args: readonly string[],
  opts: StartOptions & { readonly ms?: number } = {},
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const p = weir(args, { input: "", ...opts });
  const { code } = await p.exit(opts.ms);
  return { code, stdout: p.stdout, stderr: p.stderr };
}

/** The port at the end of a `listening on tcp:HOST:PORT` line of `p`'s `stream`. */
export async function listeningPort(
  p: Proc,
  stream: "stdout" | "stderr" = "stdout",
): Promise<number> {
  const m = await p.waitFor(stream, /listening on tcp:[^\s]*:(\d+)\n/);
  return Number(m[1]);
}

/** A new temporary directory, removed by {@link cleanup}. */
export function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), "weir-cli-"));
  dirs.push(d);
  return d;
}

/** Kills every process still running (SIGKILL) and waits for them; removes temporary dirs. */
export async function cleanup(): Promise<void> {
  const procs = [...live];
  for (const p of procs)
    if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill("SIGKILL");
  await Promise.allSettled(procs.map((p) => p.closed));
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
}

/** The Debian package of each program the interop tests drive. */
const PACKAGES: Record<string, string> = {
  socat: "socat",
  nc: "netcat-openbsd",
  haproxy: "haproxy",
};

/**
 * Checks that a real peer (`socat`, `nc`, ...) is installed, for the interop tests
 * (`npm run test:interop`).
 * @throws with instructions if it is not: these tests fail rather than skip without it.
 */
export function requireTool(name: string, debianPackage = PACKAGES[name] ?? name): void {
  const r = spawnSync("sh", ["-c", `command -v ${name}`], { encoding: "utf8" });
  if (r.status !== 0) {
    throw new Error(
      `${name} is not installed: npm run test:interop uses it as a real peer. Install it with ` +
        `\`apt-get install -y ${debianPackage}\` (.ci/run does this)`,
    );
  }
}

/** A TCP port on 127.0.0.1 where nothing listens (bound by the OS, then closed). */
export async function closedPort(): Promise<number> {
  const srv = net.createServer();
  await new Promise<void>((resolve) => srv.listen(0, "127.0.0.1", resolve));
  const port = (srv.address() as net.AddressInfo).port;
  await new Promise<void>((resolve) => srv.close(() => resolve()));
  return port;
}

/** A node:net server on 127.0.0.1 (port 0) that accepts and ignores connections. */
export async function listenOn(): Promise<{ port: number; close(): Promise<void> }> {
  const sockets = new Set<net.Socket>();
  const srv = net.createServer((s) => {
    sockets.add(s);
    s.on("error", () => {});
    s.on("close", () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => srv.listen(0, "127.0.0.1", resolve));
  return {
    port: (srv.address() as net.AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        srv.close(() => resolve());
      }),
  };
}

/** A connected client socket from the test itself (node:net), with its received bytes. */
export class Client {
  readonly socket: net.Socket;
  readonly chunks: Buffer[] = [];
  /** The local port (TCP), read once connected. */
  localPort = 0;
  /** Resolves when the peer has ended its side (end-of-file). */
  readonly ended: Promise<void>;
  /** Resolves when the socket is closed (with `true` if it had an error, such as a reset). */
  readonly closed: Promise<boolean>;

  private constructor(socket: net.Socket) {
    this.socket = socket;
    socket.on("data", (b: Buffer) => this.chunks.push(b));
    socket.on("error", () => {});
    this.ended = new Promise((resolve) => socket.once("end", () => resolve()));
    this.closed = new Promise((resolve) => socket.once("close", (hadError) => resolve(hadError)));
  }

  /** Connects to `port` on 127.0.0.1 (or to a Unix path). */
  static async connect(to: number | string): Promise<Client> {
    const socket =
      typeof to === "number"
        ? net.connect({ port: to, host: "127.0.0.1", allowHalfOpen: true })
        : net.connect({ path: to, allowHalfOpen: true });
    const c = new Client(socket);
    clients.add(c);
    await new Promise<void>((resolve, reject) => {
      socket.once("connect", resolve);
      socket.once("error", reject);
    });
    c.localPort = socket.localPort ?? 0;
    return c;
  }

  /** Everything received so far. */
  received(): Buffer {
    return Buffer.concat(this.chunks);
  }

  /** Waits until at least `n` bytes have arrived. */
  async receivedAtLeast(n: number, ms = 10_000): Promise<Buffer> {
    const deadline = Date.now() + ms;
    while (this.received().length < n) {
      if (Date.now() > deadline)
        throw new Error(`received ${this.received().length} of ${n} bytes`);
      await new Promise((r) => setTimeout(r, 5));
    }
    return this.received();
  }
}

const clients = new Set<Client>();

/** Destroys every test client socket and waits for them to close. */
export async function closeClients(): Promise<void> {
  const cs = [...clients];
  clients.clear();
  for (const c of cs) c.socket.destroy();
  await Promise.all(cs.map((c) => c.closed));
}

/** Whether `port` on 127.0.0.1 refuses connections now. */
export async function refuses(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect({ port, host: "127.0.0.1" });
    let refused = false;
    s.once("connect", () => s.destroy());
    s.once("error", () => {
      refused = true;
    });
    s.once("close", () => resolve(refused));
  });
}

/**
 * Connects to `port` on 127.0.0.1 from `localAddress` (e.g. 127.0.0.2), sends `msg`,
 * half-closes, and returns everything that comes back until the peer's end.
 */
export function askFrom(port: number, localAddress: string, msg: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = net.connect({ port, host: "127.0.0.1", localAddress, allowHalfOpen: true });
    const chunks: Buffer[] = [];
    s.on("data", (b: Buffer) => chunks.push(b));
    s.on("error", reject);
    s.on("end", () => {
      s.end();
      resolve(Buffer.concat(chunks).toString());
    });
    s.end(msg);
  });
}

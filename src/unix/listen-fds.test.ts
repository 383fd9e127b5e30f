/**
 * `Unix.listenFds`: the variables it reads (and always deletes), its errors, and a child
 * process started as systemd starts a socket-activated service (fds 3.., LISTEN_PID set to
 * its own pid by `exec`), which takes a TCP, a Unix and a UDP socket and echoes on them.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterEach, describe, expect, test } from "vitest";
import type { NativeAddr } from "../backend-node/native.ts";
import { nodeNet } from "../backend-node/node-net.ts";
import { isIoError, Switch } from "../core/index.ts";
import { Flow } from "../flow/index.ts";
import { Sockaddr } from "../net/sockaddr.ts";
import { native, Unix } from "./index.ts";

/** A bound socket (listening, for a stream one), close-on-exec: the caller closes it. */
function rawSocket(domain: "inet" | "unix", type: "stream" | "dgram", addr: NativeAddr): number {
  const fd = native.socket(domain, type);
  native.bind(fd, addr);
  if (type === "stream") native.listen(fd, 16);
  return fd;
}

const VARS = ["LISTEN_FDS", "LISTEN_PID", "LISTEN_FDNAMES"] as const;
const saved = VARS.map((v) => process.env[v]);

afterEach(() => {
  VARS.forEach((v, i) => {
    const old = saved[i];
    if (old === undefined) delete process.env[v];
    else process.env[v] = old;
  });
});

function setEnv(vars: Partial<Record<(typeof VARS)[number], string>>): void {
  for (const v of VARS) delete process.env[v];
  Object.assign(process.env, vars);
}

function left(): (string | undefined)[] {
  return VARS.map((v) => process.env[v]);
}

describe("Unix.listenFds: errors", () => {
  test("no LISTEN_FDS: IoError NotFound saying so", async () => {
    setEnv({});
    const e = await Switch.run((sw) => Unix.listenFds({ sw })).catch((x: unknown) => x);
    expect(isIoError(e, "NotFound")).toBe(true);
    expect(String(e)).toMatch(/LISTEN_FDS is not set.*socket activation/);
  });

  test("LISTEN_FDS 0: NotFound", async () => {
    setEnv({ LISTEN_FDS: "0", LISTEN_PID: String(process.pid) });
    const e = await Switch.run((sw) => Unix.listenFds({ sw })).catch((x: unknown) => x);
    expect(isIoError(e, "NotFound")).toBe(true);
    expect(String(e)).toMatch(/LISTEN_FDS is 0/);
    expect(left()).toEqual([undefined, undefined, undefined]);
  });

  test("another process's LISTEN_PID: NotFound, and the variables are deleted all the same", async () => {
    setEnv({ LISTEN_FDS: "2", LISTEN_PID: String(process.pid + 1), LISTEN_FDNAMES: "a:b" });
    const e = await Switch.run((sw) => Unix.listenFds({ sw })).catch((x: unknown) => x);
    expect(isIoError(e, "NotFound")).toBe(true);
    expect(String(e)).toContain(
      `LISTEN_PID is ${process.pid + 1}, not this process (${process.pid})`,
    );
    expect(left()).toEqual([undefined, undefined, undefined]);
  });

  test("malformed variables: RangeError naming the variable and the value", async () => {
    const cases: [Partial<Record<(typeof VARS)[number], string>>, RegExp][] = [
      [{ LISTEN_FDS: "three" }, /LISTEN_FDS must be a count of fds .* got "three"/],
      [{ LISTEN_FDS: "-1" }, /LISTEN_FDS must be .* got "-1"/],
      [{ LISTEN_FDS: "1", LISTEN_PID: "me" }, /LISTEN_PID must be a process id, got "me"/],
      [
        { LISTEN_FDS: "2", LISTEN_PID: String(process.pid), LISTEN_FDNAMES: "only-one" },
        /LISTEN_FDNAMES must name the 2 fds of LISTEN_FDS, got "only-one" \(1 names\)/,
      ],
    ];
    for (const [vars, re] of cases) {
      setEnv(vars);
      const e = await Switch.run((sw) => Unix.listenFds({ sw })).catch((x: unknown) => x);
      expect(e).toBeInstanceOf(RangeError);
      expect(String(e)).toMatch(re);
      expect(left()).toEqual([undefined, undefined, undefined]);
    }
  });

  test("bad options: TypeError/RangeError at once", async () => {
    await expect(Unix.listenFds(undefined as never)).rejects.toThrow(
      /option sw \(a Switch\) is required/,
    );
    await Switch.run(async (sw) => {
      await expect(Unix.listenFds({ sw, backlog: -1 })).rejects.toThrow(
        /backlog must be an integer >= 0, got -1/,
      );
    });
  });
});

const CHILD = join(
  dirname(fileURLToPath(import.meta.url)),
  "..",
  "..",
  "test",
  "fixtures",
  "listen-fds-child.ts",
);

describe("Unix.listenFds in a socket-activated process", () => {
  test("takes a TCP, a Unix and a UDP socket at fds 3, 4, 5, named, and clears the variables", async () => {
    const dir = mkdtempSync(join(tmpdir(), "weir-listen-fds-"));
    try {
      await Switch.run(async (sw) => {
        // raw sockets, as systemd makes them: this process never reads or accepts on them
        const path = join(dir, "s.sock");
        const fds = [
          rawSocket("inet", "stream", { family: "inet", address: "127.0.0.1", port: 0 }),
          rawSocket("unix", "stream", { family: "unix", path }),
          rawSocket("inet", "dgram", { family: "inet", address: "127.0.0.1", port: 0 }),
        ];
        const [tcpAddr, unixAddr, udpAddr] = fds.map((fd) => native.getsockname(fd));
        const tcp = { listeningAddr: Unix.sockaddrOfUnixStream(tcpAddr as NativeAddr) };
        const local = { listeningAddr: Unix.sockaddrOfUnixStream(unixAddr as NativeAddr) };
        const udp = { localAddr: Unix.sockaddrOfUnixDatagram(udpAddr as NativeAddr) };
        // as systemd: LISTEN_PID is the service's own pid (exec keeps the shell's)
        let child: ChildProcess;
        try {
          child = spawn("sh", ["-c", 'LISTEN_PID=$$ exec "$0" "$@"', process.execPath, CHILD], {
            stdio: ["ignore", "pipe", "pipe", ...fds],
            env: { ...process.env, LISTEN_FDS: "3", LISTEN_FDNAMES: "web:local:dns" },
          });
        } finally {
          for (const fd of fds) native.close(fd);
        }
        const exited = new Promise<number | null>((resolve) => child.once("close", resolve));
        let out = "";
        let err = "";
        child.stdout?.on("data", (b: Buffer) => {
          out += b.toString();
        });
        child.stderr?.on("data", (b: Buffer) => {
          err += b.toString();
        });
        try {
          await new Promise<void>((resolve, reject) => {
            const t = setTimeout(() => reject(new Error(`no line from the child: ${err}`)), 15_000);
            const check = (): void => {
              if (out.includes("\n")) {
                clearTimeout(t);
                resolve();
              }
            };
            child.stdout?.on("data", check);
            child.once("close", () => {
              clearTimeout(t);
              if (!out.includes("\n")) reject(new Error(`the child ended: ${err}`));
            });
          });
          const report = JSON.parse(out.split("\n")[0] as string);
          expect(report).toEqual({
            found: [
              {
                fd: 3,
                name: "web",
                kind: "listening",
                address: Sockaddr.format(tcp.listeningAddr),
              },
              { fd: 4, name: "local", kind: "listening", address: `unix:${path}` },
              { fd: 5, name: "dns", kind: "datagram", address: Sockaddr.format(udp.localAddr) },
            ],
            env: [null, null, null],
          });
          for (const addr of [tcp.listeningAddr, local.listeningAddr]) {
            const c = await nodeNet.connect(addr, { sw });
            await Flow.copyString(`hello ${Sockaddr.format(addr)}`, c);
            await c.shutdown("send");
            expect(await Flow.readAll(c, { maxSize: 200 })).toBe(`hello ${Sockaddr.format(addr)}`);
            await c.close();
          }
          const client = await nodeNet.datagramSocket(Sockaddr.parse("udp:127.0.0.1:0"), { sw });
          await client.send([new TextEncoder().encode("ping")], { dst: udp.localAddr });
          const buf = new Uint8Array(16);
          const [, n] = await client.recv(buf);
          expect(new TextDecoder().decode(buf.subarray(0, n))).toBe("ping");
          expect(await exited).toBe(0);
        } finally {
          if (child.exitCode === null) child.kill("SIGKILL");
          await exited;
        }
      });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

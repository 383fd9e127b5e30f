/**
 * Interop (`npm run test:interop`): `weir connect` against socat's listeners, and `weir listen`
 * with socat and nc as clients: standard input to the socket, the socket to standard output,
 * half-close at end of input. Needs Debian's `socat` and `netcat-openbsd`.
 */
import { randomBytes } from "node:crypto";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, test } from "vitest";
import {
  cleanup,
  closeClients,
  listeningPort,
  type Proc,
  requireTool,
  start,
  tempDir,
  weir,
} from "../cli/harness.ts";

afterEach(async () => {
  await closeClients();
  await cleanup();
});

/** Starts `socat -d -d TCP-LISTEN OTHER` and returns it with the port it listens on. */
async function socatListener(other: string, flags: string[] = []): Promise<[Proc, number]> {
  requireTool("socat");
  const p = start("socat", ["-d", "-d", ...flags, "TCP-LISTEN:0,bind=127.0.0.1", other]);
  const m = await p.waitFor("stderr", /listening on AF=2 127\.0\.0\.1:(\d+)/);
  return [p, Number(m[1])];
}

describe("weir connect", () => {
  test("against socat's echo (PIPE): stdin goes out, the echo comes back, exit 0", async () => {
    const [socat, port] = await socatListener("PIPE");
    const c = weir(["connect", `127.0.0.1:${port}`], { input: "hello from weir\n" });
    expect(await c.exit()).toEqual({ code: 0, signal: null });
    expect(c.stdout).toBe("hello from weir\n");
    expect(c.stderr).toBe("");
    expect((await socat.exit()).code).toBe(0);
  });

  test("sends all of stdin (1 MiB), then half-closes so socat finishes its file", async () => {
    const out = join(tempDir(), "received.bin");
    const [socat, port] = await socatListener(`CREATE:${out}`, ["-u"]);
    const data = randomBytes(1 << 20);
    const c = weir(["connect", `tcp:127.0.0.1:${port}`], { input: data });
    expect(await c.exit()).toEqual({ code: 0, signal: null });
    expect((await socat.exit()).code).toBe(0);
    expect(readFileSync(out).equals(data)).toBe(true);
  });

  test("prints what the server sends and exits when it closes, with stdin still open", async () => {
    const file = join(tempDir(), "banner.bin");
    const data = randomBytes(300_000);
    writeFileSync(file, data);
    const [, port] = await socatListener(`OPEN:${file}`);
    const c = weir(["connect", `localhost:${port}`, "-v"]); // stdin: an open pipe, never written
    expect(await c.exit()).toEqual({ code: 0, signal: null });
    expect(c.stdoutBytes().equals(data)).toBe(true);
    expect(c.stderr).toMatch(
      /^weir connect: connected to tcp:127\.0\.0\.1:\d+ from tcp:127\.0\.0\.1:\d+\n$/,
    );
  });

  test("over a Unix socket (socat UNIX-LISTEN)", async () => {
    requireTool("socat");
    const path = join(tempDir(), "s.sock");
    const socat = start("socat", ["-d", "-d", `UNIX-LISTEN:${path}`, "PIPE"]);
    await socat.waitFor("stderr", /listening on/);
    const c = weir(["connect", `unix:${path}`], { input: "unix hello\n" });
    expect(await c.exit()).toEqual({ code: 0, signal: null });
    expect(c.stdout).toBe("unix hello\n");
  });
});

describe("weir listen", () => {
  test("with a socat client: data both ways, half-close, exit 0", async () => {
    requireTool("socat");
    const l = weir(["listen", "tcp:127.0.0.1:0"], { input: "to the client\n" });
    const port = await listeningPort(l, "stderr");
    expect(l.stdout).toBe("");
    const client = start("socat", ["-", `TCP:127.0.0.1:${port}`], { input: "to the server\n" });
    expect(await client.exit()).toEqual({ code: 0, signal: null });
    expect(await l.exit()).toEqual({ code: 0, signal: null });
    expect(client.stdout).toBe("to the client\n");
    expect(l.stdout).toBe("to the server\n");
    expect(l.stderr).toBe(`listening on tcp:127.0.0.1:${port}\n`);
  });

  test("with an nc client, its stdin left open: exits when the client closes", async () => {
    requireTool("nc");
    const l = weir(["listen", "0"]);
    const port = await listeningPort(l, "stderr");
    const data = randomBytes(200_000);
    const client = start("nc", ["-N", "127.0.0.1", String(port)], { input: data });
    expect(await l.exit()).toEqual({ code: 0, signal: null });
    expect((await client.exit()).code).toBe(0);
    expect(l.stdoutBytes().equals(data)).toBe(true);
  });

  test("--keep serves one client after another over a Unix socket, until SIGTERM", async () => {
    requireTool("socat");
    requireTool("nc");
    const path = join(tempDir(), "l.sock");
    const l = weir(["listen", "--keep", "-v", `unix:${path}`]);
    await l.waitFor("stderr", /listening on unix:/);
    const a = start("socat", ["-", `UNIX-CONNECT:${path}`], { input: "first\n" });
    expect((await a.exit()).code).toBe(0);
    await l.waitFor("stdout", /first\n/);
    const b = start("nc", ["-N", "-U", path], { input: "second\n" });
    await l.waitFor("stdout", /second\n/);
    expect((await b.exit()).code).toBe(0);
    l.child.kill("SIGTERM");
    expect(await l.exit()).toEqual({ code: 0, signal: null });
    expect(l.stdout).toBe("first\nsecond\n");
    expect(l.stderr.match(/connection from unix:/g)).toHaveLength(2);
  });
});

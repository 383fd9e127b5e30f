/**
 * Interop (`npm run test:interop`): `weir echo` and `weir proxy` with real clients that no one
 * here wrote: socat and nc (Debian's `socat` and `netcat-openbsd`).
 */
import { randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, test } from "vitest";
import {
  cleanup,
  closeClients,
  listeningPort,
  requireTool,
  start,
  tempDir,
  weir,
} from "../cli/harness.ts";

afterEach(async () => {
  await closeClients();
  await cleanup();
});

describe("weir echo with socat and nc", () => {
  test("answers socat and nc on an OS-chosen port of 127.0.0.1, every byte of 1 MiB", async () => {
    requireTool("socat");
    requireTool("nc");
    const echo = weir(["echo"]);
    const port = await listeningPort(echo);
    expect(echo.stdout).toBe(`listening on tcp:127.0.0.1:${port}\n`);

    const hello = start("socat", ["-", `TCP:127.0.0.1:${port}`], { input: "hello\n" });
    const nc = start("nc", ["-N", "127.0.0.1", String(port)], { input: "from nc\n" });
    const data = randomBytes(1 << 20);
    const big = start("socat", ["-", `TCP:127.0.0.1:${port}`], { input: data });
    expect(await hello.exit()).toEqual({ code: 0, signal: null });
    expect(await nc.exit()).toEqual({ code: 0, signal: null });
    expect(await big.exit()).toEqual({ code: 0, signal: null });
    expect(hello.stdout).toBe("hello\n");
    expect(nc.stdout).toBe("from nc\n");
    expect(big.stdoutBytes().length).toBe(data.length);
    expect(big.stdoutBytes().equals(data)).toBe(true);

    echo.child.kill("SIGINT");
    expect(await echo.exit()).toEqual({ code: 0, signal: null });
    expect(echo.stderr).toContain("weir echo: SIGINT: stopping");
    expect(echo.stderr).toContain("weir echo: stopped\n");
  });

  test("serves a Unix socket (socat and nc -U) and removes it when it stops", async () => {
    requireTool("socat");
    requireTool("nc");
    const path = join(tempDir(), "echo.sock");
    const echo = weir(["echo", `unix:${path}`]);
    await echo.waitFor("stdout", /listening on unix:.*\n/);
    expect(echo.stdout).toBe(`listening on unix:${path}\n`);
    const a = start("socat", ["-", `UNIX-CONNECT:${path}`], { input: "over unix\n" });
    const b = start("nc", ["-N", "-U", path], { input: "nc over unix\n" });
    expect((await a.exit()).code).toBe(0);
    expect((await b.exit()).code).toBe(0);
    expect(a.stdout).toBe("over unix\n");
    expect(b.stdout).toBe("nc over unix\n");
    echo.child.kill("SIGTERM");
    expect(await echo.exit()).toEqual({ code: 0, signal: null });
    expect(existsSync(path)).toBe(false);
  });
});

describe("weir proxy with socat and nc", () => {
  test("socat and nc through a TCP-to-Unix proxy, with half-close both ways", async () => {
    requireTool("socat");
    requireTool("nc");
    const path = join(tempDir(), "echo.sock");
    const echo = weir(["echo", `unix:${path}`]);
    await echo.waitFor("stdout", /listening/);
    const proxy = weir(["proxy", "--listen", "0", "--to", `unix:${path}`]);
    const port = await listeningPort(proxy);
    const data = randomBytes(256 * 1024);
    const s = start("socat", ["-", `TCP:127.0.0.1:${port}`], { input: data });
    const n = start("nc", ["-N", "127.0.0.1", String(port)], { input: "via nc\n" });
    expect((await s.exit()).code).toBe(0);
    expect((await n.exit()).code).toBe(0);
    expect(s.stdoutBytes().equals(data)).toBe(true);
    expect(n.stdout).toBe("via nc\n");
    await proxy.waitFor("stdout", /(?:.*\n){3}/);
    expect(proxy.stdout).toContain(
      ` -> unix:${path}: ${data.length} B up, ${data.length} B down, `,
    );
    expect(proxy.stdout).toContain(` -> unix:${path}: 7 B up, 7 B down, `);
  });
});

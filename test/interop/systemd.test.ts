/**
 * Interop (`npm run test:interop`): `weir echo --systemd` started by Debian's
 * `systemd-socket-activate` (package `systemd`), which listens, waits for the first client and
 * then execs weir with the sockets as fds 3.. and LISTEN_FDS, LISTEN_PID, LISTEN_FDNAMES set,
 * as a `.socket` unit does: a TCP port and a Unix path together, a UDP port (`--datagram`), and
 * a process per connection (`--accept`, Accept=yes).
 */
import { join } from "node:path";
import { afterEach, describe, expect, test } from "vitest";
import {
  cleanup,
  closeClients,
  closedPort,
  MAIN,
  NODE,
  requireTool,
  start,
  tempDir,
} from "../cli/harness.ts";

afterEach(async () => {
  await closeClients();
  await cleanup();
});

describe("weir echo --systemd under systemd-socket-activate", () => {
  test("a TCP port and a Unix path, named: socat and nc get their bytes back", async () => {
    requireTool("systemd-socket-activate", "systemd");
    requireTool("socat");
    requireTool("nc");
    const port = await closedPort();
    const path = join(tempDir(), "echo.sock");
    const activator = start("systemd-socket-activate", [
      ...["-l", `127.0.0.1:${port}`, "-l", path, "--fdname=web:local"],
      ...[NODE, MAIN, "echo", "--systemd"],
    ]);
    await activator.waitFor("stderr", new RegExp(`Listening on ${path} as 4\\.`));
    // the first client starts weir (its connection waits in the kernel's queue meanwhile)
    const tcp = start("socat", ["-", `TCP:127.0.0.1:${port}`], { input: "over tcp\n" });
    expect(await tcp.exit()).toEqual({ code: 0, signal: null });
    expect(tcp.stdout).toBe("over tcp\n");
    await activator.waitFor("stdout", /listening on unix:.*\n/);
    expect(activator.stdout).toBe(
      `listening on tcp:127.0.0.1:${port} (systemd fd 3, name web)\n` +
        `listening on unix:${path} (systemd fd 4, name local)\n`,
    );
    const local = start("nc", ["-N", "-U", path], { input: "over unix\n" });
    expect(await local.exit()).toEqual({ code: 0, signal: null });
    expect(local.stdout).toBe("over unix\n");
    const again = start("nc", ["-N", "127.0.0.1", String(port)], { input: "again\n" });
    expect(await again.exit()).toEqual({ code: 0, signal: null });
    expect(again.stdout).toBe("again\n");
    // weir runs in the activator's process (exec): a stop signal stops it gracefully
    activator.child.kill("SIGTERM");
    expect(await activator.exit()).toEqual({ code: 0, signal: null });
    expect(activator.stderr).toContain("weir echo: SIGTERM: stopping");
  });

  test("a UDP port (--datagram): each datagram comes back to its sender", async () => {
    requireTool("systemd-socket-activate", "systemd");
    requireTool("socat");
    const port = await closedPort();
    const activator = start("systemd-socket-activate", [
      ...["--datagram", "-l", `127.0.0.1:${port}`, "--fdname=dns"],
      ...[NODE, MAIN, "echo", "--systemd"],
    ]);
    await activator.waitFor("stderr", /Listening on .* as 3\./);
    const first = start("socat", ["-t", "3", "-", `UDP:127.0.0.1:${port}`], { input: "ping\n" });
    expect(await first.exit()).toEqual({ code: 0, signal: null });
    expect(first.stdout).toBe("ping\n");
    expect(activator.stdout).toBe(
      `echoing datagrams on udp:127.0.0.1:${port} (systemd fd 3, name dns)\n`,
    );
    const second = start("socat", ["-t", "1", "-", `UDP:127.0.0.1:${port}`], { input: "pong\n" });
    expect(await second.exit()).toEqual({ code: 0, signal: null });
    expect(second.stdout).toBe("pong\n");
    activator.child.kill("SIGTERM");
    expect(await activator.exit()).toEqual({ code: 0, signal: null });
  });

  test("--accept (Accept=yes): a weir echo per connection echoes it and exits with status 0", async () => {
    requireTool("systemd-socket-activate", "systemd");
    requireTool("nc");
    const port = await closedPort();
    const activator = start("systemd-socket-activate", [
      ...["--accept", "-l", `127.0.0.1:${port}`],
      ...[NODE, MAIN, "echo", "--systemd"],
    ]);
    await activator.waitFor("stderr", /Listening on .* as 3\./);
    for (const text of ["first\n", "second\n"]) {
      const nc = start("nc", ["-N", "127.0.0.1", String(port)], { input: text });
      expect(await nc.exit()).toEqual({ code: 0, signal: null });
      expect(nc.stdout).toBe(text);
    }
    // each connection's process ends once its client is done
    await activator.waitFor(
      "stderr",
      /Child \d+ died with code 0[\s\S]*Child \d+ died with code 0/,
    );
    expect(activator.stdout).toBe("echoing a connection (systemd fd 3, name unknown)\n".repeat(2));
    activator.child.kill("SIGTERM");
    await activator.exit();
  });
});

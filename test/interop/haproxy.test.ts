/**
 * Interop (`npm run test:interop`): weir behind a real HAProxy (Debian's `haproxy`), started
 * here with a generated configuration: `send-proxy` (v1) and `send-proxy-v2` in front of weir
 * servers listening with `proxyProtocol`, clients bound to 127.0.0.2 and 127.0.0.3 so that the
 * addresses weir reports are the clients' own; and HAProxy's health checks (`check`, which
 * send a v2 LOCAL header), which must never reach the handler.
 */
import { writeFileSync } from "node:fs";
import net from "node:net";
import { join } from "node:path";
import { afterEach, describe, expect, test } from "vitest";
import { Flow, Net, run, Sockaddr, Switch } from "../../src/index.ts";
import { askFrom, cleanup, closedPort, requireTool, start, tempDir } from "../cli/harness.ts";

afterEach(cleanup);

/** Waits until `port` on 127.0.0.1 accepts a connection (HAProxy has bound it). */
async function accepting(port: number, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      // from 127.0.0.4, so that the probe tells itself apart from the clients and the checks
      const s = net.connect({ port, host: "127.0.0.1", localAddress: "127.0.0.4" });
      s.once("connect", () => {
        s.destroy();
        resolve(true);
      });
      s.once("error", () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`haproxy did not listen on ${port} in ${ms} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe("weir behind HAProxy", () => {
  test("send-proxy and send-proxy-v2: weir sees the clients; health checks never reach the handler", async () => {
    requireTool("haproxy");
    await run(async (env) => {
      await Switch.run(async (sw) => {
        const handled: string[] = [];
        const errors: unknown[] = [];
        const { promise: stop, resolve } = Promise.withResolvers<void>();
        const serve = async (mode: "v1" | "v2") => {
          const l = await env.net.listen("tcp:127.0.0.1:0", { sw, proxyProtocol: mode });
          const done = Net.runServer(
            l,
            async (flow, addr) => {
              handled.push(`${mode} ${Sockaddr.format(addr)}`);
              const msg = await Flow.readAll(flow, { maxSize: 100 });
              await Flow.copyString(`${msg} from ${Sockaddr.format(addr)}`, flow);
            },
            { onError: (e) => errors.push(e), stop },
          );
          return { port: (l.listeningAddr as { port: number }).port, done };
        };
        const v1 = await serve("v1");
        const v2 = await serve("v2");
        const [fe1, fe2] = [await closedPort(), await closedPort()];
        const cfg = join(tempDir(), "haproxy.cfg");
        writeFileSync(
          cfg,
          [
            "global",
            "  maxconn 200",
            "  log stderr format raw local0 info",
            "defaults",
            "  mode tcp",
            "  log global",
            "  option log-health-checks",
            "  timeout connect 2s",
            "  timeout client 10s",
            "  timeout server 10s",
            `frontend fe1`,
            `  bind 127.0.0.1:${fe1}`,
            "  default_backend be1",
            `frontend fe2`,
            `  bind 127.0.0.1:${fe2}`,
            "  default_backend be2",
            "backend be1",
            `  server s1 127.0.0.1:${v1.port} send-proxy`,
            "backend be2",
            `  server s2 127.0.0.1:${v2.port} send-proxy-v2 check inter 100`,
            "",
          ].join("\n"),
        );
        const haproxy = start("haproxy", ["-f", cfg, "-db"]);
        await accepting(fe1);
        await accepting(fe2);
        const [a, b] = await Promise.all([
          askFrom(fe1, "127.0.0.2", "one"),
          askFrom(fe2, "127.0.0.3", "two"),
        ]);
        expect(a).toMatch(/^one from tcp:127\.0\.0\.2:\d+$/);
        expect(b).toMatch(/^two from tcp:127\.0\.0\.3:\d+$/);
        // HAProxy's health checks of the v2 server (every 100 ms, each a LOCAL header) pass
        await haproxy.waitFor("stderr", /Health check for server be2\/s2 succeeded/);
        await new Promise((r) => setTimeout(r, 300)); // and a few more
        haproxy.child.kill("SIGTERM");
        await haproxy.exit();
        resolve();
        await Promise.all([v1.done, v2.done]);
        // the handlers saw the clients (and the readiness probes, from 127.0.0.4), never the
        // balancer itself: its health checks were closed after their LOCAL header
        const clients = handled
          .map((h) => h.replace(/:\d+$/, ""))
          .filter((h) => !h.endsWith("127.0.0.4"));
        expect(clients.sort()).toEqual(["v1 tcp:127.0.0.2", "v2 tcp:127.0.0.3"]);
        expect(errors).toEqual([]);
      });
    });
  });
});

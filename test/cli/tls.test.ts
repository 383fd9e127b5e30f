/**
 * The TLS flags of the CLI on real sockets: `weir echo`/`listen` with `--tls-cert`/`--tls-key`,
 * `weir connect`/`bench` with `--tls`/`--ca`/`--insecure`, `weir proxy` terminating TLS and
 * originating it (`--to-tls`), against node:tls peers.
 */
import { randomBytes } from "node:crypto";
import { afterEach, describe, expect, test } from "vitest";
import { certs, nodeTlsConnect, nodeTlsServer, readBytes, readToEnd } from "../tls/support.ts";
import { cleanup, listeningPort, weir, weirRun } from "./harness.ts";

const F = "test/fixtures/tls";
const serverFlags = ["--tls-cert", `${F}/server.crt`, "--tls-key", `${F}/server.key`];

afterEach(cleanup);

describe("weir echo --tls-cert --tls-key", () => {
  test("echoes over TLS to weir connect --tls --ca, every byte", async () => {
    const echo = weir(["echo", ...serverFlags]);
    const port = await listeningPort(echo);
    const payload = randomBytes(200_000);
    const p = weir(["connect", `localhost:${port}`, "--tls", "--ca", `${F}/ca.crt`], {
      input: payload,
    });
    expect((await p.exit()).code).toBe(0);
    expect(p.stdoutBytes().equals(payload)).toBe(true);
    echo.child.kill("SIGTERM");
    expect((await echo.exit()).code).toBe(0);
  });

  test("weir connect --tls without --ca refuses the test CA's certificate (exit 1)", async () => {
    const echo = weir(["echo", ...serverFlags]);
    const port = await listeningPort(echo);
    const r = await weirRun(["connect", `127.0.0.1:${port}`, "--tls"]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/Net Tls Certificate: unable to verify the first certificate/);
    const ok = await weirRun(["connect", `127.0.0.1:${port}`, "--tls", "--insecure"], {
      input: "anyway",
    });
    expect([ok.code, ok.stdout]).toEqual([0, "anyway"]);
  });
});

describe("weir listen --tls-cert --tls-key", () => {
  test("takes a node:tls client's bytes and sends its standard input back", async () => {
    const p = weir(["listen", "tcp:127.0.0.1:0", ...serverFlags], { input: "from weir" });
    const port = await listeningPort(p, "stderr");
    const c = await nodeTlsConnect({ port, ca: certs.ca, servername: "localhost" });
    const reply = readToEnd(c);
    // weir listen exits once the client's side ends: send only after its data has come
    c.once("data", () => c.end("from node:tls"));
    expect(await reply).toBe("from weir");
    // Closed only once weir is done: a reset earlier could drop what weir has not read yet
    const ex = await p.exit();
    c.destroy();
    expect(p.stderr).toBe(`listening on tcp:127.0.0.1:${port}\n`);
    expect(ex.code).toBe(0);
    expect(p.stdout).toBe("from node:tls");
  });
});

describe("weir proxy with TLS", () => {
  test("terminates TLS in front of a plain echo server", async () => {
    const echo = weir(["echo"]);
    const echoPort = await listeningPort(echo);
    const proxy = weir([
      "proxy",
      "--listen",
      "tcp:127.0.0.1:0",
      "--to",
      `127.0.0.1:${echoPort}`,
      ...serverFlags,
    ]);
    const port = await listeningPort(proxy);
    const c = await nodeTlsConnect({ port, ca: certs.ca, servername: "localhost" });
    const payload = randomBytes(100_000);
    const back = readBytes(c);
    c.end(payload);
    expect((await back).equals(payload)).toBe(true);
    c.destroy();
    await proxy.waitFor("stdout", / -> tcp:127\.0\.0\.1:\d+: 100000 B up, 100000 B down, /);
  });

  test("--to-tls --ca originates TLS to a node:tls server", async () => {
    await using srv = await nodeTlsServer(certs.server, (s) => {
      s.on("data", (b: Buffer) => s.write(b.toString().toUpperCase()));
      s.on("end", () => s.end());
    });
    const proxy = weir([
      "proxy",
      "--listen",
      "tcp:127.0.0.1:0",
      "--to",
      `localhost:${srv.port}`,
      "--to-tls",
      "--ca",
      `${F}/ca.crt`,
    ]);
    const port = await listeningPort(proxy);
    const r = await weirRun(["connect", `127.0.0.1:${port}`], { input: "shout" });
    expect([r.code, r.stdout]).toEqual([0, "SHOUT"]);
  });

  test("a plain-text client on the TLS port is reported, and the proxy goes on", async () => {
    const proxy = weir([
      "proxy",
      "--listen",
      "tcp:127.0.0.1:0",
      "--to",
      "127.0.0.1:9",
      ...serverFlags,
    ]);
    const port = await listeningPort(proxy);
    await weirRun(["connect", `127.0.0.1:${port}`], { input: "GET / HTTP/1.0\r\n\r\n" });
    await proxy.waitFor("stderr", /weir proxy: Net Tls Handshake: /);
  });
});

describe("weir bench --tls", () => {
  test("drives a TLS echo server in each mode, every byte checked", async () => {
    const echo = weir(["echo", ...serverFlags]);
    const port = await listeningPort(echo);
    for (const mode of ["pingpong", "stream", "connrate"]) {
      const r = await weirRun([
        "bench",
        `127.0.0.1:${port}`,
        "--tls",
        "--ca",
        `${F}/ca.crt`,
        "--mode",
        mode,
        "-c",
        "2",
        "-d",
        "200ms",
        "--warmup",
        "0",
        "--json",
        "-q",
      ]);
      expect(r.code, r.stderr).toBe(0);
      const result = JSON.parse(r.stdout) as {
        mode: string;
        verified: boolean;
        requests: { sent: number; answered: number };
      };
      expect([result.mode, result.verified]).toEqual([mode, true]);
      expect(result.requests.answered).toBe(result.requests.sent);
      expect(result.requests.answered).toBeGreaterThan(0);
    }
  });

  test("usage errors name the flags", async () => {
    const cases: Array<[string[], string]> = [
      [
        ["bench", "--tls"],
        "--tls without ADDR needs --tls-cert and --tls-key for the in-process server",
      ],
      [["connect", "127.0.0.1:1", "--ca", `${F}/ca.crt`], "--ca needs --tls"],
      [
        ["connect", "127.0.0.1:1", "--tls", "--ca", `${F}/nope.crt`],
        `--ca: cannot read "${F}/nope.crt": ENOENT`,
      ],
      [["echo", "--tls-cert", `${F}/server.crt`], "--tls-cert needs --tls-key"],
      [
        ["connect", "127.0.0.1:1", "--tls", "--insecure", "--ca", `${F}/ca.crt`],
        "--ca and --insecure cannot go together",
      ],
    ];
    for (const [args, message] of cases) {
      const r = await weirRun(args);
      expect([r.code, r.stderr.split("\n")[0]], args.join(" ")).toEqual([
        2,
        `weir ${args[0]}: ${message}`,
      ]);
    }
  });
});

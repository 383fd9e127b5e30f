/**
 * Interop (`npm run test:interop`): weir's TLS against peers no one here wrote. `openssl
 * s_client` against `weir echo --tls-cert`, weir's client against `openssl s_server`, and
 * `curl --cacert` fetching a file from `python3 -m http.server` through `weir proxy`
 * terminating TLS, every byte checked. Needs Debian's `openssl`, `curl` and `python3`.
 */
import { randomBytes } from "node:crypto";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, test } from "vitest";
import { cleanup, listeningPort, requireTool, start, tempDir, weir } from "../cli/harness.ts";

const F = "test/fixtures/tls";
const serverFlags = ["--tls-cert", `${F}/server.crt`, "--tls-key", `${F}/server.key`];

afterEach(cleanup);

describe("openssl", () => {
  test("s_client talks to weir echo --tls-cert: TLS 1.3, verified, the bytes echoed", async () => {
    requireTool("openssl");
    const echo = weir(["echo", ...serverFlags]);
    const port = await listeningPort(echo);
    const line = `${randomBytes(16).toString("hex")}\n`;
    const c = start("openssl", [
      "s_client",
      "-connect",
      `127.0.0.1:${port}`,
      "-servername",
      "localhost",
      "-verify_hostname",
      "localhost",
      "-CAfile",
      `${F}/ca.crt`,
      "-verify_return_error",
      "-brief",
    ]);
    c.write(line);
    await c.waitFor("stdout", new RegExp(line.trim()));
    c.write("", true);
    expect((await c.exit()).code).toBe(0);
    expect(c.stdout).toBe(line);
    expect(c.stderr).toMatch(/Protocol version: TLSv1\.3/);
    expect(c.stderr).toMatch(/Verification: OK/);
  });

  test("s_client -tls1_2 gets a TLS 1.2 session from weir echo too", async () => {
    requireTool("openssl");
    const echo = weir(["echo", ...serverFlags]);
    const port = await listeningPort(echo);
    const c = start("openssl", [
      "s_client",
      "-connect",
      `127.0.0.1:${port}`,
      "-servername",
      "localhost",
      "-CAfile",
      `${F}/ca.crt`,
      "-tls1_2",
      "-verify_return_error",
      "-brief",
    ]);
    c.write("over TLS 1.2\n");
    await c.waitFor("stdout", /over TLS 1\.2/);
    c.write("", true);
    expect((await c.exit()).code).toBe(0);
    expect(c.stderr).toMatch(/Protocol version: TLSv1\.2/);
  });

  test("weir connect --tls --ca talks to s_server (-rev: each line comes back reversed)", async () => {
    requireTool("openssl");
    const s = start("openssl", [
      "s_server",
      "-accept",
      "127.0.0.1:0",
      "-cert",
      `${F}/server.crt`,
      "-key",
      `${F}/server.key`,
      "-rev",
      "-naccept",
      "1",
    ]);
    const m = await s.waitFor("stdout", /ACCEPT .*:(\d+)\n/);
    const c = weir(["connect", `localhost:${m[1]}`, "--tls", "--ca", `${F}/ca.crt`]);
    c.write("hello s_server\n");
    await c.waitFor("stdout", /revres_s olleh\n/);
    c.write("", true);
    await c.exit();
    expect(c.stdout.split("\n")[0]).toBe("revres_s olleh");
  });

  test("weir connect --tls refuses s_server's expired certificate (exit 1)", async () => {
    requireTool("openssl");
    const s = start("openssl", [
      "s_server",
      "-accept",
      "127.0.0.1:0",
      "-cert",
      `${F}/expired.crt`,
      "-key",
      `${F}/expired.key`,
      "-naccept",
      "1",
    ]);
    const m = await s.waitFor("stdout", /ACCEPT .*:(\d+)\n/);
    const c = weir(["connect", `127.0.0.1:${m[1]}`, "--tls", "--ca", `${F}/ca.crt`], { input: "" });
    expect((await c.exit()).code).toBe(1);
    expect(c.stderr).toMatch(/Net Tls Certificate: certificate has expired/);
  });
});

describe("curl through weir proxy terminating TLS", () => {
  test("fetches a 4 MiB file from python3 -m http.server, every byte", async () => {
    requireTool("curl");
    requireTool("python3");
    const dir = tempDir();
    const body = randomBytes(4 << 20);
    writeFileSync(join(dir, "blob.bin"), body);
    const http = start("python3", [
      "-u",
      "-m",
      "http.server",
      "0",
      "--bind",
      "127.0.0.1",
      "--directory",
      dir,
    ]);
    const m = await http.waitFor("stdout", /port (\d+)/);
    const proxy = weir([
      "proxy",
      "--listen",
      "tcp:127.0.0.1:0",
      "--to",
      `127.0.0.1:${m[1]}`,
      ...serverFlags,
    ]);
    const port = await listeningPort(proxy);
    const out = join(dir, "fetched.bin");
    for (const host of ["localhost", "127.0.0.1"]) {
      const curl = start("curl", [
        "--silent",
        "--show-error",
        "--fail",
        "--cacert",
        `${F}/ca.crt`,
        "--output",
        out,
        `https://${host}:${port}/blob.bin`,
      ]);
      expect(await curl.exit(), curl.stderr).toEqual({ code: 0, signal: null });
      expect(readFileSync(out).equals(body), host).toBe(true);
    }
    // curl without the CA refuses the proxy's certificate
    const bare = start("curl", ["--silent", "--output", out, `https://localhost:${port}/blob.bin`]);
    expect((await bare.exit()).code).toBe(60);
  });
});

/**
 * `npm run test:runtimes` (scripts/test-runtimes.sh): the public-API suites run by vitest on
 * Bun and on Deno. This config is read by the runtime under test, so `process.versions` says
 * which one. The files in `notYet` still fail on that runtime, for the reasons given (see
 * docs/runtimes.md, "Not yet passing"); they are left out here, by name, and listed at the
 * start of every run, so that nothing is dropped silently. Each is to be fixed or turned into
 * an UnsupportedOnRuntime with a test, and then removed from the list.
 */
import { defineConfig } from "vitest/config";

const versions = process.versions as Record<string, string | undefined>;
const rt = versions.bun !== undefined ? "bun" : versions.deno !== undefined ? "deno" : "node";

const notYetX: Record<string, Record<string, string>> = {
  bun: {
    "test/conformance/tls.conformance.test.ts":
      "TLS over a JS stream (strictClose, STARTTLS, a mock flow): after the peer's shutdown('send') Bun destroys the TLS socket (ECANCELED), no half-close (3 tests)",
    "test/network/real-accept.test.ts":
      "EMFILE: at the fd limit Bun leaves new connections in the kernel's backlog (served once fds are free) instead of dropping them as libuv does; the test counts drops (1 test)",
  },
  deno: {
    "test/conformance/tls.conformance.test.ts":
      "node:tls: a TLS socket paused and resumed never sees the peer's end (its readable side never ends); over a JS stream, close before end (3 tests)",
    "test/network/real-accept.test.ts":
      "EMFILE: after an accept fails with EMFILE, Deno's node:net server stops accepting for good, with no 'error' event weir could see (1 test)",
  },
};
const notYet: Record<string, Record<string, string>> = process.env.WEIR_ALL === "1" ? {} : notYetX;
const skipped = notYet[rt] ?? {};
if (Object.keys(skipped).length > 0) {
  process.stdout.write(`test:runtimes: not yet passing on ${rt}, left out:\n`);
  for (const [file, why] of Object.entries(skipped)) process.stdout.write(`  ${file}: ${why}\n`);
}

export default defineConfig({
  test: {
    include: [
      "test/conformance/**/*.test.ts",
      "test/network/**/*.test.ts",
      "test/tcp/**/*.test.ts",
      "test/readme/**/*.test.ts",
      "examples/**/*.test.ts",
      "test/runtimes/**/*.test.ts",
    ],
    exclude: ["**/node_modules/**", ...Object.keys(skipped)],
    setupFiles: ["test/helpers/setup.ts"],
    testTimeout: 20_000,
    hookTimeout: 20_000,
    reporters: ["default", "./test/helpers/summary-reporter.ts"],
  },
});

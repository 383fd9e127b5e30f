import { defineConfig } from "vitest/config";

/**
 * `npm run test:interop`: the tests that drive real third-party programs (socat, nc, ...).
 * Each test file checks that its programs are installed and names the Debian package if not.
 */
export default defineConfig({
  test: {
    include: ["test/interop/**/*.test.ts"],
    setupFiles: ["test/helpers/setup.ts"],
    testTimeout: 60_000,
    hookTimeout: 30_000,
    pool: "forks",
    reporters: ["default", "./test/helpers/summary-reporter.ts"],
  },
});

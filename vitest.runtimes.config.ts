import { defineConfig } from "vitest/config";

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
    setupFiles: ["test/helpers/setup.ts"],
    testTimeout: 20_000,
    hookTimeout: 20_000,
    reporters: ["default", "./test/helpers/summary-reporter.ts"],
  },
});

import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["src/**/*.test.ts", "test/**/*.test.ts", "examples/**/*.test.ts"],
    // tests that drive third-party programs: `npm run test:interop` (vitest.interop.config.ts)
    exclude: ["test/interop/**", "**/node_modules/**"],
    setupFiles: ["test/helpers/setup.ts"],
    testTimeout: 20_000,
    hookTimeout: 20_000,
    pool: "forks",
    reporters: ["default", "./test/helpers/summary-reporter.ts"],
    typecheck: { enabled: true, include: ["test/types/**/*.test-d.ts"] },
  },
});

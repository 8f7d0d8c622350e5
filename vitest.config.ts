import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["src/**/*.test.ts", "test/**/*.test.ts", "examples/**/*.test.ts"],
    // Real processes and databases: generous, but every wait inside tests is bounded.
    testTimeout: 30_000,
    hookTimeout: 30_000,
    pool: "forks",
  },
});

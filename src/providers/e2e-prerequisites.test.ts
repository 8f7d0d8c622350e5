import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { findBundledCodex } from "./codex/codex-binary.js";

// The real-CLI e2e suites skip themselves where a binary is missing (a developer may install with
// --omit=optional). CI installs everything, so there a missing binary must fail, not skip.
describe.runIf(process.env.CI === "true")("CI runs the real-CLI end-to-end tests", () => {
  it("has the Claude Code binary (claude.e2e.test.ts needs it)", () => {
    const pkg = createRequire(import.meta.url).resolve(
      "@anthropic-ai/claude-agent-sdk-linux-x64/package.json",
    );
    expect(existsSync(path.join(path.dirname(pkg), "claude"))).toBe(true);
  });

  it("has the Codex binary (codex.e2e.test.ts needs it)", () => {
    expect(findBundledCodex()).toBeDefined();
  });
});

import { describe, expect, it } from "vitest";
import { AsmError } from "../../core/errors.js";
import { PROVIDERS, parseErrorEvent, providerFailure, spawnFailure } from "./provider-failures.js";

const claude = PROVIDERS.claude;

describe("providerFailure", () => {
  it.each([
    [{ status: 401 }, "provider_authentication_failed"],
    [{ errorType: "authentication_failed" }, "provider_authentication_failed"],
    [{ message: "Invalid API key · Please run /login" }, "provider_authentication_failed"],
    [{ status: 429 }, "provider_rate_limited"],
    [{ status: 529 }, "provider_rate_limited"],
    [{ errorType: "overloaded" }, "provider_rate_limited"],
    [{ stderr: "Error: 429 Too Many Requests" }, "provider_rate_limited"],
    [{ errorType: "billing_error" }, "provider_quota_exceeded"],
    [{ exitCode: 2, stderr: "something broke" }, "provider_error"],
  ] as const)("%j → %s", (facts, code) => {
    expect(providerFailure(claude, facts).code).toBe(code);
  });

  it("prefers the error type and status over the message text", () => {
    expect(providerFailure(claude, { status: 429, message: "unauthorized?" }).code).toBe(
      "provider_rate_limited",
    );
  });

  it("auth carries the login hint; rate limits are retryable and keep retryAfterMs", () => {
    const auth = providerFailure(claude, { status: 401, message: "nope" });
    expect(auth.hint).toBe(claude.loginHint);
    expect(auth.retryable).toBe(false);
    expect(auth.providerError).toMatchObject({ provider: "claude", kind: "authentication" });
    const rate = providerFailure(claude, { status: 429, message: "slow down", retryAfterMs: 1500 });
    expect(rate.retryable).toBe(true);
    expect(rate.details.retryAfterMs).toBe(1500);
  });

  it("an exit keeps the stderr tail (cut) and the exit code", () => {
    const stderr = `${"noise\n".repeat(300)}fatal: the real reason\n`;
    const error = providerFailure(claude, { exitCode: 3, stderr }, { maxLines: 5 });
    expect(error.code).toBe("provider_error");
    expect(error.message).toContain("exited with code 3");
    expect(error.message).toContain("fatal: the real reason");
    expect(error.providerError).toMatchObject({ kind: "transport_exit", exitCode: 3, truncated: true });
    expect(error.providerError?.stderr?.split("\n").filter(Boolean)).toHaveLength(5);
  });
});

describe("spawnFailure", () => {
  it("ENOENT is provider_unavailable with the install hint", () => {
    const enoent = Object.assign(new Error("spawn /nope ENOENT"), { code: "ENOENT" });
    const error = spawnFailure(claude, "/nope", enoent);
    expect(error).toBeInstanceOf(AsmError);
    expect(error.code).toBe("provider_unavailable");
    expect(error.hint).toBe(claude.installHint);
    expect(error.providerError?.kind).toBe("cli_not_found");
  });

  it("EACCES is provider_error with a chmod hint", () => {
    const error = spawnFailure(claude, "/x", Object.assign(new Error("EACCES"), { code: "EACCES" }));
    expect(error.code).toBe("provider_error");
    expect(error.hint).toContain("chmod");
  });
});

describe("parseErrorEvent", () => {
  it("is a non-fatal error_occurred with errorCode parse_error and the truncated line", () => {
    const event = parseErrorEvent(claude, {
      reason: "malformed_json",
      message: "Unexpected token",
      lineNumber: 4,
      bytes: 9000,
      preview: "abc",
      truncated: true,
    });
    expect(event).toMatchObject({
      type: "error_occurred",
      data: {
        errorCode: "parse_error",
        fatal: false,
        providerError: { provider: "claude", kind: "parse_error" },
        details: { reason: "malformed_json", lineNumber: 4, bytes: 9000, line: "abc", truncated: true },
      },
    });
  });

  it("names the frame type and where the frame is wrong, for a frame of the wrong shape", () => {
    const event = parseErrorEvent(claude, {
      reason: "invalid_frame",
      message: "message: expected object",
      lineNumber: 2,
      bytes: 20,
      preview: '{"type":"assistant"}',
      truncated: false,
      frameType: "assistant",
      issues: [{ path: "message", message: "expected object" }],
    });
    expect(event.data).toEqual({
      errorCode: "parse_error",
      errorMessage:
        "Claude Code: skipped a wrongly shaped assistant frame (line 2): message: expected object",
      fatal: false,
      providerError: {
        provider: "claude",
        kind: "parse_error",
        message: "Claude Code: skipped a wrongly shaped assistant frame (line 2): message: expected object",
      },
      details: {
        reason: "invalid_frame",
        lineNumber: 2,
        bytes: 20,
        line: '{"type":"assistant"}',
        truncated: false,
        frameType: "assistant",
        issues: [{ path: "message", message: "expected object" }],
      },
    });
  });
});

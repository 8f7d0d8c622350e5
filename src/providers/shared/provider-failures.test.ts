import { describe, expect, it } from "vitest";
import { AsmError } from "../../core/errors.js";
import {
  PROVIDERS,
  parseErrorEvent,
  providerFailure,
  retryAfterFromText,
  spawnFailure,
  statusFromText,
} from "./provider-failures.js";

const claude = PROVIDERS.claude;

describe("providerFailure", () => {
  // The table in providerFailure's JSDoc and the README, row by row: facts → code → retryable.
  it.each([
    [{ status: 401 }, "provider_authentication_failed", false],
    [{ status: 403 }, "provider_authentication_failed", false],
    [{ errorType: "authentication_failed" }, "provider_authentication_failed", false],
    [{ errorType: "authentication_error" }, "provider_authentication_failed", false],
    [{ message: "Invalid API key · Please run /login" }, "provider_authentication_failed", false],
    [{ status: 402 }, "provider_quota_exceeded", false],
    [{ errorType: "billing_error" }, "provider_quota_exceeded", false],
    [{ errorType: "insufficient_quota" }, "provider_quota_exceeded", false],
    [{ message: "Quota exceeded. Check your plan and billing details." }, "provider_quota_exceeded", false],
    [{ status: 429 }, "provider_rate_limited", true],
    [{ errorType: "rate_limit_error" }, "provider_rate_limited", true],
    [{ stderr: "Error: 429 Too Many Requests" }, "provider_rate_limited", true],
    [{ status: 529 }, "provider_rate_limited", true],
    [{ errorType: "overloaded" }, "provider_rate_limited", true],
    [{ errorType: "overloaded_error" }, "provider_rate_limited", true],
    [{ status: 500 }, "provider_unavailable", true],
    [{ status: 502 }, "provider_unavailable", true],
    [{ status: 503 }, "provider_unavailable", true],
    [{ errorType: "api_error" }, "provider_unavailable", true],
    [{ errorType: "server_error" }, "provider_unavailable", true],
    [{ message: "read ECONNRESET" }, "provider_unavailable", true],
    [
      { message: "stream disconnected before completion: error sending request" },
      "provider_unavailable",
      true,
    ],
    [{ message: "Connection closed before message completed" }, "provider_unavailable", true],
    [{ message: "connection reset by peer" }, "provider_unavailable", true],
    [
      { message: "error sending request for url (http://127.0.0.1/v1/responses)" },
      "provider_unavailable",
      true,
    ],
    [{ stderr: "Error: socket hang up" }, "provider_unavailable", true],
    [
      { message: "fetch failed", cause: Object.assign(new Error("x"), { code: "ECONNREFUSED" }) },
      "provider_unavailable",
      true,
    ],
    [{ status: 504 }, "provider_timeout", true],
    [{ status: 408 }, "provider_timeout", true],
    [{ errorType: "timeout_error" }, "provider_timeout", true],
    [{ message: "request timed out" }, "provider_timeout", true],
    [{ status: 400, message: "bad request" }, "provider_error", false],
    [{ exitCode: 2, stderr: "something broke" }, "provider_error", false],
  ] as const)("%j → %s (retryable %s)", (facts, code, retryable) => {
    const error = providerFailure(claude, facts);
    expect(error.code).toBe(code);
    expect(error.retryable).toBe(retryable);
  });

  it("keeps the status in details: given, or as the text names it (Codex's colon form too)", () => {
    expect(providerFailure(claude, { status: 503 }).details.status).toBe(503);
    const codex = providerFailure(PROVIDERS.codex, {
      message: "Codex CLI turn failed: exceeded retry limit, last status: 429 Too Many Requests",
    });
    expect(codex).toMatchObject({ code: "provider_rate_limited", details: { status: 429 } });
    // A status in the message wins over one in stderr; Codex's refused WebSocket (426) is never one.
    const withStderr = providerFailure(PROVIDERS.codex, {
      message: "unexpected status 502 Bad Gateway",
      stderr: "failed to connect to websocket: HTTP error: 426 Upgrade Required",
    });
    expect(withStderr).toMatchObject({ code: "provider_unavailable", details: { status: 502 } });
    const onlyWebSocket = providerFailure(PROVIDERS.codex, {
      exitCode: 1,
      stderr: "failed to connect to websocket: HTTP error: 426 Upgrade Required",
    });
    expect(onlyWebSocket.details.status).toBeUndefined();
  });

  it("puts retryAfterMs on every retryable class when known, from the facts or the text", () => {
    expect(providerFailure(claude, { status: 429, retryAfterMs: 1500 }).details.retryAfterMs).toBe(1500);
    expect(providerFailure(claude, { status: 503, retryAfterMs: 2000 }).details.retryAfterMs).toBe(2000);
    expect(providerFailure(claude, { status: 504, retryAfterMs: 10 }).details.retryAfterMs).toBe(10);
    expect(
      providerFailure(claude, { message: "Rate limit reached. Please try again in 1.2s." }).details
        .retryAfterMs,
    ).toBe(1200);
    // Never on a failure that is not worth retrying.
    expect(providerFailure(claude, { status: 401, retryAfterMs: 5 }).details.retryAfterMs).toBeUndefined();
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

describe("statusFromText", () => {
  it.each([
    ["exceeded retry limit, last status: 429 Too Many Requests", 429],
    ["unexpected status 401 Unauthorized: Incorrect API key", 401],
    ["HTTP error: 500", 500],
    ["HTTP/1.1 502 Bad Gateway", 502],
    ["http status code 504", 504],
    ['API Error: 529 {"type":"error"}', 529],
    ["503 Service Unavailable", 503],
    ['529 {"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}', 529],
    ["used 500 tokens", undefined],
    ["HTTP error: 426 Upgrade Required", undefined],
  ] as const)("%s → %s", (text, status) => {
    expect(statusFromText(text)).toBe(status);
  });
});

describe("retryAfterFromText", () => {
  it.each([
    ["Rate limit reached for gpt-5. Please try again in 1.2s.", 1200],
    ["try again in 350ms", 350],
    ["Please retry after 20 seconds", 20_000],
    ["retry in 1m30s", 90_000],
    ["retry-after: 2", 2000],
    ["Reconnecting... 2/5 (retrying 3/5)", undefined],
    ["too many requests", undefined],
  ] as const)("%s → %s", (text, ms) => {
    expect(retryAfterFromText(text)).toBe(ms);
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

import { describe, expect, it } from "vitest";
import {
  AsmError,
  ERROR_CODES_BY_CATEGORY,
  errorCategory,
  isErrorCode,
  RETRYABLE_ERROR_CODES,
} from "./errors.js";

describe("error taxonomy", () => {
  it("retries exactly the seed's five transient codes, plus a busy database", () => {
    expect([...RETRYABLE_ERROR_CODES].sort()).toEqual(
      [
        "provider_rate_limited",
        "provider_timeout",
        "provider_unavailable",
        "storage_busy",
        "storage_connection_failed",
        "timeout",
      ].sort(),
    );
    expect(new AsmError("provider_error", "x").retryable).toBe(false);
    expect(new AsmError("cancelled", "x").retryable).toBe(false);
    expect(new AsmError("provider_rate_limited", "x").retryable).toBe(true);
  });

  it("lists the codes the seed used without declaring them, each in one category", () => {
    for (const code of ["query_error", "maintenance_error", "command_not_found", "command_failed"]) {
      expect(isErrorCode(code)).toBe(true);
    }
    const all = Object.values(ERROR_CODES_BY_CATEGORY).flat();
    expect(new Set(all).size).toBe(all.length);
    expect(errorCategory("invalid_transition")).toBe("state");
    expect(errorCategory("storage_corrupt")).toBe("storage");
    expect(isErrorCode("made_up")).toBe(false);
  });

  it("serializes to a JSON-safe object and wraps foreign errors", () => {
    const error = new AsmError("validation_error", "bad", { details: { field: "x" }, hint: "fix x" });
    expect(JSON.parse(JSON.stringify(error))).toEqual({
      code: "validation_error",
      message: "bad",
      details: { field: "x" },
      hint: "fix x",
      timestamp: error.timestamp,
    });
    const wrapped = AsmError.from(new TypeError("boom"), "provider_error");
    expect(wrapped.code).toBe("provider_error");
    expect(wrapped.message).toBe("boom");
    expect(wrapped.cause).toBeInstanceOf(TypeError);
    expect(AsmError.from(error)).toBe(error);
    expect(AsmError.is(error, "validation_error")).toBe(true);
    expect(AsmError.is(error, "timeout")).toBe(false);
  });
});

describe("AsmError", () => {
  it("is recognised across two copies of the package (a registry-symbol marker, not instanceof)", async () => {
    // A second module instance stands for a plugin's own copy of the package.
    const secondCopy = "./errors.js?second-copy";
    const copy = (await import(secondCopy)) as typeof import("./errors.js");
    expect(copy.AsmError).not.toBe(AsmError);
    const foreign = new copy.AsmError("provider_rate_limited", "slow down");
    expect(foreign instanceof AsmError).toBe(false);
    expect(AsmError.is(foreign)).toBe(true);
    expect(AsmError.is(foreign, "provider_rate_limited")).toBe(true);
    expect(AsmError.is(foreign, "cancelled")).toBe(false);
    expect(AsmError.from(foreign)).toBe(foreign);
    expect(copy.AsmError.is(new AsmError("cancelled", "x"), "cancelled")).toBe(true);
    const lookalike = Object.assign(new Error("x"), { name: "AsmError", code: "cancelled" });
    expect(AsmError.is(lookalike)).toBe(false);
  });

  it("carries a timestamp and an optional context, and round-trips through its JSON form", () => {
    const error = new AsmError("validation_error", "bad input", {
      details: { field: "prompt" },
      hint: "pass a prompt",
      context: { operation: "startRun", sessionId: "ses_1" },
    });
    expect(Number.isNaN(Date.parse(error.timestamp))).toBe(false);
    const back = AsmError.fromJSON(JSON.parse(JSON.stringify(error.toJSON())));
    expect(back.toJSON()).toEqual(error.toJSON());
    expect(back.code).toBe("validation_error");
    expect(back.context).toEqual({ operation: "startRun", sessionId: "ses_1" });
    expect(AsmError.fromJSON({ code: "no_such_code" as never, message: "m" }).code).toBe("unknown_error");
  });

  it("round-trips details, hint, provider error, timestamp and a summary of its cause", () => {
    const cause = Object.assign(new Error("open /x: no such file"), { code: "ENOENT" });
    const error = new AsmError("storage_error", "cannot open the store", {
      details: { path: "/x", attempts: 2 },
      hint: "check the path",
      providerError: { provider: "claude", kind: "transport_exit", message: "exit 1", exitCode: 1 },
      timestamp: "2026-01-02T03:04:05.000Z",
      cause,
    });
    const json = error.toJSON();
    expect(json.cause).toEqual({ name: "Error", code: "ENOENT", message: "open /x: no such file" });
    const back = AsmError.fromJSON(JSON.parse(JSON.stringify(json)));
    expect(back.toJSON()).toEqual(json);
    expect(back).toMatchObject({
      code: "storage_error",
      message: "cannot open the store",
      details: { path: "/x", attempts: 2 },
      hint: "check the path",
      timestamp: "2026-01-02T03:04:05.000Z",
      cause: { name: "Error", code: "ENOENT", message: "open /x: no such file" },
    });
    // An AsmError cause keeps its code; a thrown non-error becomes its string.
    const wrapped = new AsmError("provider_unavailable", "failover", {
      cause: new AsmError("provider_rate_limited", "slow down"),
    });
    expect(wrapped.toJSON().cause).toEqual({
      name: "AsmError",
      code: "provider_rate_limited",
      message: "slow down",
    });
    expect(new AsmError("internal_error", "x", { cause: 42 }).toJSON().cause).toEqual({ message: "42" });
    expect(new AsmError("internal_error", "x").toJSON()).not.toHaveProperty("cause");
  });

  it("says its code when printed", () => {
    expect(String(new AsmError("validation_error", "prompt is empty"))).toBe(
      "AsmError [validation_error]: prompt is empty",
    );
  });
});

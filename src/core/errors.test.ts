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

import { describe, expect, it } from "vitest";
import { AsmError } from "../../core/errors.js";
import { isS3NotFound, s3Error } from "./s3-errors.js";

const context = { operation: "put", bucket: "bkt", key: "k", objectKey: "p/k" };

/** An error shaped like the SDK's service exceptions. */
function serviceError(name: string, status: number): Error {
  return Object.assign(new Error(`${name} happened`), {
    name,
    $metadata: { httpStatusCode: status, requestId: "req-1" },
  });
}

describe("s3Error", () => {
  it("maps network failures, also when wrapped, to storage_connection_failed", () => {
    const refused = Object.assign(new Error("connect ECONNREFUSED"), { code: "ECONNREFUSED" });
    expect(s3Error(refused, context).code).toBe("storage_connection_failed");
    const wrapped = new Error("request failed", { cause: refused });
    expect(s3Error(wrapped, context).code).toBe("storage_connection_failed");
    expect(s3Error(Object.assign(new Error("t"), { name: "TimeoutError" }), context).code).toBe(
      "storage_connection_failed",
    );
  });

  it("maps throttling to storage_busy", () => {
    expect(s3Error(serviceError("SlowDown", 503), context).code).toBe("storage_busy");
  });

  it("maps credential and access problems to storage_error with a hint", () => {
    const missing = s3Error(
      Object.assign(new Error("Could not load credentials"), { name: "CredentialsProviderError" }),
      context,
    );
    expect(missing.code).toBe("storage_error");
    expect(missing.hint).toMatch(/AWS_ACCESS_KEY_ID/);
    const denied = s3Error(serviceError("AccessDenied", 403), context);
    expect(denied.code).toBe("storage_error");
    expect(denied.hint).toMatch(/bkt/);
    expect(denied.details).toEqual({
      key: "k",
      bucket: "bkt",
      objectKey: "p/k",
      operation: "put",
      s3Error: "AccessDenied",
      httpStatus: 403,
      requestId: "req-1",
    });
  });

  it("keeps AsmErrors as they are", () => {
    const original = new AsmError("not_found", "gone");
    expect(s3Error(original, context)).toBe(original);
  });
});

describe("isS3NotFound", () => {
  it("recognizes NoSuchKey, NotFound and a bare 404, but not a missing bucket", () => {
    expect(isS3NotFound(serviceError("NoSuchKey", 404))).toBe(true);
    expect(isS3NotFound(serviceError("NotFound", 404))).toBe(true);
    expect(isS3NotFound(serviceError("UnknownError", 404))).toBe(true);
    expect(isS3NotFound(serviceError("NoSuchBucket", 404))).toBe(false);
    expect(isS3NotFound(serviceError("AccessDenied", 403))).toBe(false);
  });
});

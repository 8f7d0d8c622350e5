import { createHash } from "node:crypto";
import { PassThrough, type Readable } from "node:stream";
import { AsmError } from "../../core/errors.js";

/** Bodies as both stores store them: strings as UTF-8, bytes as given. */
export function bodyBytes(key: string, body: unknown): Uint8Array {
  if (typeof body === "string") return Buffer.from(body, "utf8");
  if (body instanceof Uint8Array) return body;
  throw new AsmError("validation_error", "artifact body must be a Uint8Array or a string", {
    details: { key, field: "body", type: body === null ? "null" : typeof body },
  });
}

export function sha256Hex(bytes: Uint8Array): string {
  return createHash("sha256").update(bytes).digest("hex");
}

/**
 * The same memory as a plain `Uint8Array`: callers get the type the port promises, and
 * `assert.deepStrictEqual` against a `Uint8Array` does not trip over Buffer's prototype.
 */
export function plainBytes(buffer: Uint8Array): Uint8Array {
  return new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength);
}

/**
 * A stream of `source`'s bytes whose failures are AsmErrors made by `toAsmError`, so a caller
 * reading a large artifact sees the same error codes as the promise-based methods.
 */
export function withAsmErrors(source: Readable, toAsmError: (error: unknown) => AsmError): Readable {
  const output = new PassThrough();
  source.on("error", (error) => output.destroy(toAsmError(error)));
  // A reader that gives up early must release the source (a file handle, an HTTP socket).
  output.on("close", () => {
    if (!source.destroyed) source.destroy();
  });
  source.pipe(output);
  return output;
}

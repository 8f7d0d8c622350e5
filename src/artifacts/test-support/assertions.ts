/** Helpers the artifact store tests share. */
import { createHash } from "node:crypto";
import { AsmError } from "../../core/errors.js";

export function sha256(bytes: Uint8Array | string): string {
  return createHash("sha256").update(bytes).digest("hex");
}

/** The AsmError `promise` rejects with; rethrows any other error, and fails if it resolves. */
export async function rejection(promise: Promise<unknown>): Promise<AsmError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof AsmError) return error;
    throw error;
  }
  throw new Error("expected a rejection");
}

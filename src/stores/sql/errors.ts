import { AsmError, type ErrorCode } from "../../core/errors.js";
import type { SqlBackend } from "./backend.js";

/**
 * Runs one QueryApi / Maintenance call: refused once the store is closed, and anything thrown
 * becomes an `AsmError`. The store's mapping keeps the actionable storage codes (`storage_busy`,
 * `storage_connection_failed`, `storage_corrupt`, …); a failure it can only call a generic
 * `storage_error` is reported as `fallback` (`query_error`, `maintenance_error`), which says
 * which kind of call failed.
 */
export async function guarded<T>(
  backend: SqlBackend,
  fallback: ErrorCode,
  work: () => Promise<T>,
): Promise<T> {
  backend.assertOpen();
  try {
    return await work();
  } catch (error) {
    if (AsmError.is(error)) throw error;
    const mapped = backend.toError(error);
    if (mapped.code !== "storage_error") throw mapped;
    throw new AsmError(fallback, mapped.message, {
      cause: error,
      details: mapped.details,
      ...(mapped.hint === undefined ? {} : { hint: mapped.hint }),
    });
  }
}

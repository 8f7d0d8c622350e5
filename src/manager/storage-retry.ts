import { setTimeout as sleep } from "node:timers/promises";
import { z } from "zod";
import { AsmError } from "../core/errors.js";
import { parseOptions } from "./options.js";

/**
 * How the SessionManager retries a write of a run's events, or of its end, that failed with a
 * retryable code (`storage_busy`, `storage_connection_failed`; see `AsmError.retryable`): the
 * same write again (appends are idempotent by event id), after waits that double from
 * `initialDelayMs` up to `maxDelayMs`. Other errors are not retried.
 *
 * With the defaults a write is given up after 6 tries and 3.1 s of waiting, plus the time each
 * try takes (a SQLite try waits up to its store's `busyTimeoutMs` for the lock first).
 */
export interface StorageRetryOptions {
  /** Tries per write, the first included; 1 turns retrying off. Default 6. */
  attempts?: number;
  /** Wait before the second try; each later wait doubles. Default 100 ms. */
  initialDelayMs?: number;
  /** Longest wait between two tries. Default 2000 ms. */
  maxDelayMs?: number;
}

export type StorageRetryPolicy = Readonly<Required<StorageRetryOptions>>;

export const DEFAULT_STORAGE_RETRY: StorageRetryPolicy = Object.freeze({
  attempts: 6,
  initialDelayMs: 100,
  maxDelayMs: 2000,
});

const storageRetrySchema = z.strictObject({
  attempts: z.number().int().min(1).max(100).optional(),
  initialDelayMs: z.number().int().nonnegative().optional(),
  maxDelayMs: z.number().int().nonnegative().optional(),
});

/** The policy an option asks for, defaults filled in; bad values are `validation_error`. */
export function resolveStorageRetry(options: StorageRetryOptions | undefined): StorageRetryPolicy {
  const given = parseOptions(storageRetrySchema, options, "storageRetry");
  return Object.freeze({
    attempts: given.attempts ?? DEFAULT_STORAGE_RETRY.attempts,
    initialDelayMs: given.initialDelayMs ?? DEFAULT_STORAGE_RETRY.initialDelayMs,
    maxDelayMs: given.maxDelayMs ?? DEFAULT_STORAGE_RETRY.maxDelayMs,
  });
}

/** The waits between the tries of one write: `attempts - 1` of them. */
export function retryDelays(policy: StorageRetryPolicy): number[] {
  return Array.from({ length: policy.attempts - 1 }, (_, retry) =>
    Math.min(policy.maxDelayMs, policy.initialDelayMs * 2 ** retry),
  );
}

/**
 * Runs `write`, trying again after each retryable failure while tries remain. Resolves with its
 * result, or rejects with the last error as an `AsmError` (`storage_write_failed` if it was not one).
 */
export async function withStorageRetry<T>(write: () => Promise<T>, policy: StorageRetryPolicy): Promise<T> {
  const delays = retryDelays(policy);
  for (let retry = 0; ; retry++) {
    try {
      return await write();
    } catch (error) {
      const failure = AsmError.from(error, "storage_write_failed");
      const delay = delays[retry];
      if (!failure.retryable || delay === undefined) throw failure;
      await sleep(delay);
    }
  }
}

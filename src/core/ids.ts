/** Id prefixes: an id says what it names. */
export type IdPrefix = "ses" | "run" | "evt" | "snap";

/**
 * A new id such as `evt_019a4c3f8e21…`: the prefix, then 32 hex characters of which the first 12
 * are the creation time in milliseconds and the rest are random (the layout of UUIDv7).
 * Time-ordered ids keep database index inserts local — random ones land on a random B-tree page
 * each, which measurably slows event ingest as a log grows — and sort by creation.
 */
export function newId(prefix: IdPrefix, now: number = Date.now()): string {
  const time = now.toString(16).padStart(12, "0").slice(-12);
  const random = globalThis.crypto.randomUUID().replaceAll("-", "").slice(0, 20);
  return `${prefix}_${time}${random}`;
}

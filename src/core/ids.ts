/** Id prefixes: an id says what it names. */
export type IdPrefix = "ses" | "run" | "evt";

/** A new id such as `ses_4f1c…` (prefix + 32 hex characters). */
export function newId(prefix: IdPrefix): string {
  return `${prefix}_${globalThis.crypto.randomUUID().replaceAll("-", "")}`;
}

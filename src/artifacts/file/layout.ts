import { createHash, randomBytes } from "node:crypto";

/**
 * Where the file store keeps things under its root. Every name is made by the store from a hash
 * or random bytes, never taken from a key, so no key can name a path the store does not control:
 *
 *   data/<h[0..2]>/<h[2..4]>/<h>        the body of the key whose UTF-8 SHA-256 in hex is h
 *   data/<h[0..2]>/<h[2..4]>/<h>.json   its sidecar (the key itself, size, sha256, content type)
 *   tmp/<24 hex>.tmp                    a body or sidecar being written, renamed into data/ when whole
 *
 * Two levels of 256 folders keep every folder small (a million keys is ~15 files per folder) and
 * bound the tree at 65,536 folders, which is why deletes leave them in place.
 */
export const DATA_DIR = "data";
export const TEMP_DIR = "tmp";

export interface KeyLocation {
  /** The two fan-out folders under `data/`. */
  folders: readonly [string, string];
  body: string;
  sidecar: string;
}

export function locate(key: string): KeyLocation {
  const hash = createHash("sha256").update(key, "utf8").digest("hex");
  return { folders: [hash.slice(0, 2), hash.slice(2, 4)], body: hash, sidecar: `${hash}.json` };
}

/** A fresh name for a temporary file: 96 random bits, created with O_EXCL. */
export function tempName(): string {
  return `${randomBytes(12).toString("hex")}.tmp`;
}

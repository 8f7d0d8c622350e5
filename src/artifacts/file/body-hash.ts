import { createHash } from "node:crypto";
import type { FileHandle } from "node:fs/promises";
import { type BodyStamp, sameStamp, stampOf } from "./sidecar.js";

/** Bytes per read call when hashing a body. */
const HASH_CHUNK_BYTES = 1024 * 1024;

export interface BodyHash {
  sha256: string;
  size: number;
  /** The stamp of the file read. */
  stamp: BodyStamp;
  /**
   * False when the file changed while it was read (rewritten in place by someone else): the hash
   * may then mix versions and must not be cached.
   */
  stable: boolean;
}

/** Size and sha256 of an open body file. */
export async function hashBody(handle: FileHandle): Promise<BodyHash> {
  const before = await handle.stat({ bigint: true });
  const hash = createHash("sha256");
  const buffer = Buffer.allocUnsafe(HASH_CHUNK_BYTES);
  let size = 0;
  for (;;) {
    const { bytesRead } = await handle.read(buffer, 0, buffer.byteLength, size);
    if (bytesRead === 0) break;
    hash.update(buffer.subarray(0, bytesRead));
    size += bytesRead;
  }
  const stamp = stampOf(await handle.stat({ bigint: true }));
  return { sha256: hash.digest("hex"), size, stamp, stable: sameStamp(stampOf(before), stamp) };
}

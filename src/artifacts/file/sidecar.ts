import type { BigIntStats } from "node:fs";
import { z } from "zod";
import type { ArtifactInfo } from "../../ports/artifact-store.js";

/**
 * The sidecar of one artifact: `meta/<key>` next to the body at `objects/<key>`, as JSON.
 *
 * It caches what `head` returns, plus a stamp of the body file it describes (inode, size and
 * modification time in ns, taken from the open temporary file just before it was renamed into
 * place). `head` trusts the sidecar only while the body still carries that stamp; otherwise (a
 * crash between the body's rename and the sidecar's, two puts racing on one key, someone editing
 * the file) it hashes the body again and rewrites the sidecar. So the body is always the truth
 * and the sidecar is a verified cache, never a second copy that can disagree with it.
 */
export interface Sidecar {
  version: 1;
  size: number;
  sha256: string;
  contentType: string;
  /** Decimal strings: inode numbers and ns times do not fit a JSON number. */
  ino: string;
  mtimeNs: string;
}

/** The part of a sidecar that identifies the body file it was written for. */
export type BodyStamp = Pick<Sidecar, "ino" | "size" | "mtimeNs">;

const sidecarSchema = z.object({
  version: z.literal(1),
  size: z.number().int().nonnegative(),
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
  contentType: z.string().min(1),
  ino: z.string().regex(/^\d+$/),
  mtimeNs: z.string().regex(/^\d+$/),
});

export function stampOf(stats: BigIntStats): BodyStamp {
  return { ino: stats.ino.toString(), size: Number(stats.size), mtimeNs: stats.mtimeNs.toString() };
}

export function sameStamp(a: BodyStamp, b: BodyStamp): boolean {
  return a.ino === b.ino && a.size === b.size && a.mtimeNs === b.mtimeNs;
}

export function encodeSidecar(
  info: Omit<ArtifactInfo, "key"> & { contentType: string },
  stamp: BodyStamp,
): Buffer {
  const sidecar: Sidecar = {
    version: 1,
    size: info.size,
    sha256: info.sha256,
    contentType: info.contentType,
    ino: stamp.ino,
    mtimeNs: stamp.mtimeNs,
  };
  return Buffer.from(`${JSON.stringify(sidecar)}\n`, "utf8");
}

/** The sidecar in `text`, or `undefined` when it is not one (torn by hand, another version). */
export function decodeSidecar(text: string): Sidecar | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return undefined;
  }
  const result = sidecarSchema.safeParse(parsed);
  return result.success ? result.data : undefined;
}

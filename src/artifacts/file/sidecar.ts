import type { BigIntStats } from "node:fs";
import { z } from "zod";
import type { ArtifactInfo } from "../../ports/artifact-store.js";
import { type DirectoryHandle, TamperedEntry } from "./directory-handle.js";

/**
 * The sidecar of one artifact: `<body>.json` next to the body (see `layout.ts`), as JSON.
 *
 * It records the key (the body's file name is only its hash) and caches what `head` returns,
 * plus a stamp of the body file it describes (inode, size and modification time in ns, taken from
 * the open temporary file just before it was renamed into place). `head` trusts the sidecar only while the body still carries that stamp; otherwise (a
 * crash between the body's rename and the sidecar's, two puts racing on one key, someone editing
 * the file) it hashes the body again and rewrites the sidecar. So the body is always the truth
 * and the sidecar is a verified cache, never a second copy that can disagree with it.
 */
export interface Sidecar {
  version: 2;
  key: string;
  size: number;
  sha256: string;
  contentType: string;
  /** Decimal strings: inode numbers and ns times do not fit a JSON number. */
  ino: string;
  mtimeNs: string;
}

/** The part of a sidecar that identifies the body file it was written for. */
export type BodyStamp = Pick<Sidecar, "ino" | "size" | "mtimeNs">;

/** What both versions record about the body. */
const bodyFacts = {
  size: z.number().int().nonnegative(),
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
  contentType: z.string().min(1),
  ino: z.string().regex(/^\d+$/),
  mtimeNs: z.string().regex(/^\d+$/),
};
const sidecarSchema = z.object({ version: z.literal(2), key: z.string().min(1), ...bodyFacts });
/** Version 1, from the first layout (`meta/<key>`, the key being the path): read when migrating it. */
const legacySidecarSchema = z.object({ version: z.literal(1), ...bodyFacts });

/** A version 1 sidecar: the same facts, without the key. */
export type LegacySidecar = z.infer<typeof legacySidecarSchema>;

export function stampOf(stats: BigIntStats): BodyStamp {
  return { ino: stats.ino.toString(), size: Number(stats.size), mtimeNs: stats.mtimeNs.toString() };
}

export function sameStamp(a: BodyStamp, b: BodyStamp): boolean {
  return a.ino === b.ino && a.size === b.size && a.mtimeNs === b.mtimeNs;
}

export function encodeSidecar(info: ArtifactInfo, stamp: BodyStamp): Buffer {
  const sidecar: Sidecar = {
    version: 2,
    key: info.key,
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
  const result = sidecarSchema.safeParse(parseJson(text));
  return result.success ? result.data : undefined;
}

/** The version 1 sidecar in `text`, or `undefined` when it is not one. */
export function decodeLegacySidecar(text: string): LegacySidecar | undefined {
  const result = legacySidecarSchema.safeParse(parseJson(text));
  return result.success ? result.data : undefined;
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/**
 * The sidecar in file `name` of `folder`, or `undefined` when it is missing or not a sidecar. A
 * link or a folder where a sidecar should be is as good as no sidecar: the body is hashed again.
 */
export async function readSidecar(folder: DirectoryHandle, name: string): Promise<Sidecar | undefined> {
  const text = await readSmallFile(folder, name);
  return text === undefined ? undefined : decodeSidecar(text);
}

/** Like `readSidecar`, for a version 1 sidecar. */
export async function readLegacySidecar(
  folder: DirectoryHandle,
  name: string,
): Promise<LegacySidecar | undefined> {
  const text = await readSmallFile(folder, name);
  return text === undefined ? undefined : decodeLegacySidecar(text);
}

async function readSmallFile(folder: DirectoryHandle, name: string): Promise<string | undefined> {
  const handle = await folder.openFile(name).catch((error: unknown) => {
    if (error instanceof TamperedEntry) return undefined;
    throw error;
  });
  if (handle === undefined) return undefined;
  try {
    return await handle.readFile("utf8");
  } finally {
    await handle.close();
  }
}

/**
 * Builds a file artifact store root in the first layout, byte for byte as that version wrote it:
 * the body of key `k` at `objects/k` and a version 1 sidecar at `meta/k`, with the default modes
 * it used (0644 files, 0755 folders under umask 022).
 */
import { createHash } from "node:crypto";
import { chmod, mkdir, stat, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";

export interface LegacyArtifact {
  key: string;
  body: string;
  contentType?: string;
  /** `valid` (the default): describes the body; `stale`: describes an older body; `none`: absent. */
  sidecar?: "valid" | "stale" | "none";
}

export async function writeLegacyArtifact(root: string, artifact: LegacyArtifact): Promise<void> {
  const bodyPath = join(root, "objects", artifact.key);
  await mkdir(dirname(bodyPath), { recursive: true, mode: 0o755 });
  await writeFile(bodyPath, artifact.body);
  await chmod(bodyPath, 0o644);
  const kind = artifact.sidecar ?? "valid";
  if (kind === "none") return;
  const stats = await stat(bodyPath, { bigint: true });
  const described = kind === "valid" ? artifact.body : `an older ${artifact.body}`;
  const sidecar = {
    version: 1,
    size: Buffer.byteLength(described),
    sha256: createHash("sha256").update(described).digest("hex"),
    contentType: artifact.contentType ?? "application/octet-stream",
    ino: stats.ino.toString(),
    mtimeNs: (kind === "valid" ? stats.mtimeNs : stats.mtimeNs - 1n).toString(),
  };
  const sidecarPath = join(root, "meta", artifact.key);
  await mkdir(dirname(sidecarPath), { recursive: true, mode: 0o755 });
  await writeFile(sidecarPath, `${JSON.stringify(sidecar)}\n`);
}

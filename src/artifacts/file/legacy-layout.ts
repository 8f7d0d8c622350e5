import type { FileHandle } from "node:fs/promises";
import { parseArtifactKey } from "../shared/artifact-key.js";
import type { ArtifactTree } from "./artifact-tree.js";
import { hashBody } from "./body-hash.js";
import { type DirectoryHandle, FILE_MODE, hasCode, TamperedEntry } from "./directory-handle.js";
import { locate } from "./layout.js";
import { encodeSidecar, readLegacySidecar, sameStamp, stampOf } from "./sidecar.js";

/**
 * The first layout of the file store, which used keys as paths: the body of key `a/b` at
 * `objects/a/b`, its version 1 sidecar at `meta/a/b`, and temporary files named
 * `.<name>.<12 hex>.tmp` next to the body. A process swapping one of those key-named folders for
 * a symlink could lead that layout out of its root, so the store now derives every name itself
 * (see `layout.ts`) and moves an old tree over when it opens it.
 */
const LEGACY_OBJECTS_DIR = "objects";
const LEGACY_META_DIR = "meta";
const LEGACY_TEMP_FILE = /^\..+\.[0-9a-f]{12}\.tmp$/;

/**
 * Moves every artifact of a first-layout tree under `tree.root` into the current layout, then
 * removes the emptied `objects/` and `meta/` trees. Each body is moved (linked in, then its old
 * name removed), never copied, so its bytes never exist twice, and made owner-only; its new
 * sidecar keeps the old one's content type, and its checksum when the old sidecar still describes
 * the body (otherwise the body is hashed). Temporary files left by crashed puts, and sidecars
 * whose body is gone, are removed.
 *
 * Safe to interrupt, and to run from several processes at once, even while one of them already
 * serves calls: the new sidecar is in place before the body appears, neither ever replaces what
 * is already at its new name, and a body found at its new name that is the very file still in
 * `objects/` (an interrupted move) just loses its old name. Left where they are (and so out of the
 * store): symlinks and special files, which the store never follows, files whose path is not a
 * valid key (put there by hand), and bodies of keys the current layout already holds in another
 * file (written by a newer process meanwhile: that one wins).
 */
export async function migrateLegacyLayout(tree: ArtifactTree): Promise<void> {
  const objects = await tree.root.openDirectory(LEGACY_OBJECTS_DIR, false);
  const meta = await tree.root.openDirectory(LEGACY_META_DIR, false).catch(async (error: unknown) => {
    await objects?.close();
    throw error;
  });
  if (objects === undefined && meta === undefined) return;
  try {
    await migrateFolder(tree, objects, meta, []);
  } finally {
    await Promise.all([objects?.close(), meta?.close()]);
  }
  await tree.root.removeEmptyDirectory(LEGACY_OBJECTS_DIR);
  await tree.root.removeEmptyDirectory(LEGACY_META_DIR);
}

/** Migrates one folder of the old trees: `objects` and `meta` are the same path in each, if present. */
async function migrateFolder(
  tree: ArtifactTree,
  objects: DirectoryHandle | undefined,
  meta: DirectoryHandle | undefined,
  segments: readonly string[],
): Promise<void> {
  const names = new Set([...((await objects?.names()) ?? []), ...((await meta?.names()) ?? [])]);
  for (const name of [...names].sort()) {
    const body = await objects?.entryStats(name);
    const sidecar = await meta?.entryStats(name);
    if (body?.isDirectory() || sidecar?.isDirectory()) {
      const innerObjects = body?.isDirectory() ? await openQuietly(objects, name) : undefined;
      const innerMeta = sidecar?.isDirectory() ? await openQuietly(meta, name) : undefined;
      try {
        await migrateFolder(tree, innerObjects, innerMeta, [...segments, name]);
      } finally {
        await Promise.all([innerObjects?.close(), innerMeta?.close()]);
      }
      await objects?.removeEmptyDirectory(name);
      await meta?.removeEmptyDirectory(name);
    }
    if (objects !== undefined && body?.isFile())
      await migrateBody(tree, objects, meta, name, [...segments, name]);
    // A sidecar without a body: its body was deleted, or already moved along with a new sidecar.
    else if (meta !== undefined && sidecar?.isFile()) await removeLegacyFile(meta, name);
  }
}

async function migrateBody(
  tree: ArtifactTree,
  objects: DirectoryHandle,
  meta: DirectoryHandle | undefined,
  name: string,
  segments: readonly string[],
): Promise<void> {
  if (LEGACY_TEMP_FILE.test(name)) {
    await objects.removeFile(name);
    return;
  }
  const key = segments.join("/");
  if (!isValidKey(key)) return;
  const legacy = meta === undefined ? undefined : await readLegacySidecar(meta, name);
  const location = locate(key);
  const folder = await tree.folder(location, true);
  try {
    const handle = await openQuietlyFile(objects, name);
    if (handle === undefined) return;
    let moved: boolean;
    let sidecar: Buffer | undefined;
    try {
      const stats = await handle.stat({ bigint: true });
      const there = await folder.entryStats(location.body);
      if (there !== undefined && (there.dev !== stats.dev || there.ino !== stats.ino)) return;
      moved = there !== undefined;
      // Through the open descriptor, so it is this very file that becomes owner-only.
      await handle.chmod(FILE_MODE);
      if (!moved && legacy !== undefined) {
        // A link keeps the inode and modification time, so the old stamp still identifies the body.
        const stamp = stampOf(stats);
        const facts = sameStamp(legacy, stamp) ? legacy : await hashBody(handle);
        const info = { key, size: facts.size, sha256: facts.sha256, contentType: legacy.contentType };
        sidecar = encodeSidecar(info, stamp);
      }
    } finally {
      await handle.close();
    }
    // Without an old sidecar there is nothing to keep: head writes one when first asked.
    if (sidecar !== undefined) await tree.writeNew(folder, location.sidecar, sidecar);
    if (!moved && !(await adoptUnlessGone(tree, objects, name, folder, location.body))) return;
    await objects.removeFile(name);
  } finally {
    await folder.close();
  }
  if (meta !== undefined) await removeLegacyFile(meta, name);
}

/** `tree.adopt`, false as well when the old name is gone (another process moved the body first). */
async function adoptUnlessGone(
  tree: ArtifactTree,
  objects: DirectoryHandle,
  name: string,
  folder: DirectoryHandle,
  target: string,
): Promise<boolean> {
  try {
    return await tree.adopt(objects, name, folder, target);
  } catch (error) {
    if (hasCode(error, "ENOENT")) return false;
    throw error;
  }
}

/** Removes `name` from the old `meta/` tree if it is a version 1 sidecar or a temporary file. */
async function removeLegacyFile(meta: DirectoryHandle, name: string): Promise<void> {
  if (LEGACY_TEMP_FILE.test(name) || (await readLegacySidecar(meta, name)) !== undefined) {
    await meta.removeFile(name);
  }
}

/** Subdirectory `name`, or `undefined` when it is gone or is not one of ours (it stays as it is). */
async function openQuietly(
  directory: DirectoryHandle | undefined,
  name: string,
): Promise<DirectoryHandle | undefined> {
  return directory?.openDirectory(name, false).catch(leaveTampered);
}

/** File `name`, or `undefined` when it is gone or is a link or special file (it stays as it is). */
async function openQuietlyFile(directory: DirectoryHandle, name: string): Promise<FileHandle | undefined> {
  return directory.openFile(name).catch(leaveTampered);
}

function leaveTampered(error: unknown): undefined {
  if (error instanceof TamperedEntry) return undefined;
  throw error;
}

function isValidKey(key: string): boolean {
  try {
    parseArtifactKey(key);
    return true;
  } catch {
    return false;
  }
}

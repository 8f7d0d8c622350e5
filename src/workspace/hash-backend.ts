import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import {
  chmod,
  lstat,
  mkdir,
  readdir,
  readFile,
  readlink,
  rm,
  symlink,
  unlink,
  writeFile,
} from "node:fs/promises";
import { dirname, join } from "node:path";
import { AsmError } from "../core/errors.js";
import { newId } from "../core/ids.js";
import type { HashedFile, RollbackReport, WorkspaceDiff, WorkspaceSnapshot } from "./types.js";

/*
 * Snapshots of any directory by content hash. Every regular file is hashed (SHA-256) as read
 * once; a symlink is recorded by its target text and never followed, so nothing outside the
 * directory is read; FIFOs, sockets and devices are skipped (reading a FIFO would block).
 * A file that changes while the snapshot is taken is recorded as one of its versions; one that
 * disappears is left out. With `keepContents` the bytes are kept in memory (within a cap) so the
 * directory can be rolled back to the snapshot.
 */

/** Directories never descended into, wherever they are: a repository's own database. */
const ALWAYS_SKIPPED = new Set([".git"]);
/** Top-level directories skipped unless `ignore` is given: dependencies, not the work. */
export const DEFAULT_HASH_IGNORE: readonly string[] = ["node_modules"];
/** Default cap of the bytes `keepContents` holds. */
export const DEFAULT_KEPT_CONTENT_BYTES = 64 * 1024 * 1024;
/** Files hashed at once. */
const CONCURRENCY = 32;
/** Files at most this large are read whole; larger ones are streamed through the hash. */
const READ_WHOLE_BYTES = 4 * 1024 * 1024;

/**
 * A file's hash as last computed, by absolute path, with the stat it was computed for: a file
 * whose size, mtime, ctime and inode are unchanged is not read again (as git's index does). Only
 * entries for files last modified well before they were hashed are trusted: a write in the same
 * timestamp tick as the hashing could otherwise go unseen ("racy" files, re-read every time).
 */
export class HashCache {
  readonly #entries = new Map<string, { stamp: string; sha256: string }>();

  lookup(absolute: string, stamp: string): string | undefined {
    const entry = this.#entries.get(absolute);
    return entry?.stamp === stamp ? entry.sha256 : undefined;
  }

  remember(absolute: string, stamp: string, sha256: string, mtimeMs: number, hashedAtMs: number): void {
    if (hashedAtMs - mtimeMs > RACY_MARGIN_MS) this.#entries.set(absolute, { stamp, sha256 });
    else this.#entries.delete(absolute);
  }
}

/** How much older than its hashing a file's mtime must be for the hash to be cached. */
const RACY_MARGIN_MS = 2000;

/** Contents kept by snapshots, by snapshot object: the snapshot itself stays plain JSON. */
const keptContents = new WeakMap<WorkspaceSnapshot, Map<string, Buffer>>();

export interface HashSnapshotOptions {
  label?: string;
  ignore: readonly string[];
  /** Keep file contents up to this many bytes in all (0 = keep none). */
  keepContentBytes: number;
  /** Hashes of unchanged files from earlier snapshots. Default: none (every file read). */
  cache?: HashCache;
}

export async function takeHashSnapshot(
  path: string,
  options: HashSnapshotOptions,
): Promise<WorkspaceSnapshot> {
  const ignored = compileGlobs(options.ignore);
  const entries = await walk(path, ignored);
  const files: Record<string, HashedFile> = {};
  const contents = options.keepContentBytes > 0 ? new Map<string, Buffer>() : undefined;
  let keptBytes = 0;
  let contentsComplete = contents !== undefined;
  await forEachLimited(entries, CONCURRENCY, async (relativePath) => {
    const read = await readEntry(
      join(path, relativePath),
      contentsComplete ? Math.max(READ_WHOLE_BYTES, options.keepContentBytes - keptBytes) : 0,
      contentsComplete ? undefined : options.cache,
    );
    if (!read) return; // gone since it was listed
    files[relativePath] = read.file;
    if (!contents || !contentsComplete) return;
    if (!read.bytes || keptBytes + read.bytes.length > options.keepContentBytes) {
      contentsComplete = false;
      contents.clear();
      return;
    }
    keptBytes += read.bytes.length;
    contents.set(relativePath, read.bytes);
  });
  const sorted = Object.fromEntries(Object.entries(files).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
  const snapshot: WorkspaceSnapshot = {
    id: newId("snap"),
    backend: "hash",
    path,
    ref: manifestHash(sorted),
    ...(options.label ? { label: options.label } : {}),
    takenAt: new Date().toISOString(),
    includesUntracked: true,
    files: sorted,
    hasContents: contents !== undefined && contentsComplete,
    ignore: [...options.ignore],
  };
  if (contents && contentsComplete) keptContents.set(snapshot, contents);
  return snapshot;
}

/** Added, modified and deleted files between two hash snapshots of the same path. No line counts, no patch. */
export function hashDiff(before: WorkspaceSnapshot, after: WorkspaceSnapshot): WorkspaceDiff {
  const old = before.files ?? {};
  const now = after.files ?? {};
  const added: string[] = [];
  const modified: string[] = [];
  const deleted: string[] = [];
  for (const [path, file] of Object.entries(now)) {
    const previous = old[path];
    if (!previous) added.push(path);
    else if (previous.sha256 !== file.sha256 || previous.kind !== file.kind || previous.mode !== file.mode) {
      modified.push(path);
    }
  }
  for (const path of Object.keys(old)) if (!(path in now)) deleted.push(path);
  const paths = [...added, ...modified, ...deleted].sort();
  return {
    backend: "hash",
    path: after.path,
    fromRef: before.ref,
    toRef: after.ref,
    filesChanged: paths.length,
    insertions: 0,
    deletions: 0,
    paths,
    added: added.sort(),
    modified: modified.sort(),
    deleted: deleted.sort(),
    binary: [],
    includesUntracked: true,
  };
}

/**
 * Puts a snapshot that kept its contents back: changed and deleted files rewritten (symlinks
 * recreated, modes restored), files created since removed. Anything in the way — a symlink or a
 * file where a directory belongs — is removed, never followed. A snapshot without contents, or
 * one not taken in this process, is `capability_not_supported`.
 */
export async function hashRollback(snapshot: WorkspaceSnapshot): Promise<RollbackReport> {
  const contents = keptContents.get(snapshot);
  if (!contents) {
    throw new AsmError(
      "capability_not_supported",
      `snapshot ${snapshot.id} kept no file contents, so the hash backend cannot roll back to it`,
      {
        details: { snapshotId: snapshot.id, backend: "hash", hasContents: snapshot.hasContents === true },
        hint: "take the snapshot with keepContents (within its byte cap) in this process, or use a git repository",
      },
    );
  }
  // Taken with the snapshot's own ignore globs: what they match was never recorded, so it stays.
  const current = await takeHashSnapshot(snapshot.path, {
    ignore: snapshot.ignore ?? [],
    keepContentBytes: 0,
  });
  const diff = hashDiff(snapshot, current);
  for (const path of diff.added) await rm(join(snapshot.path, path), { force: true });
  const restore = [...diff.modified, ...diff.deleted];
  for (const path of restore) {
    const file = snapshot.files?.[path];
    const bytes = contents.get(path);
    if (!file || !bytes) continue;
    const target = join(snapshot.path, path);
    await ensureRealDirectory(snapshot.path, dirname(path));
    await rm(target, { recursive: true, force: true });
    if (file.kind === "symlink") await symlink(bytes.toString("utf8"), target);
    else {
      await writeFile(target, bytes, { flag: "wx", mode: file.mode ?? 0o644 });
      if (file.mode !== undefined) await chmod(target, file.mode);
    }
  }
  return {
    snapshotId: snapshot.id,
    path: snapshot.path,
    restored: restore.length,
    removed: diff.added.length,
  };
}

/** Makes every component of `relativeDir` under `root` a real directory (a symlink in the way is removed). */
async function ensureRealDirectory(root: string, relativeDir: string): Promise<void> {
  if (relativeDir === "." || relativeDir === "") return;
  let dir = root;
  for (const part of relativeDir.split("/")) {
    dir = join(dir, part);
    const stat = await lstat(dir).catch(() => undefined);
    if (stat?.isDirectory()) continue;
    if (stat) await unlink(dir);
    await mkdir(dir);
  }
}

/** Relative paths of the files to hash under `root`, `/`-separated. */
async function walk(root: string, ignored: (path: string) => boolean): Promise<string[]> {
  const found: string[] = [];
  const pending: string[] = [""];
  for (let dir = pending.pop(); dir !== undefined; dir = pending.pop()) {
    const entries = await readdir(join(root, dir), { withFileTypes: true }).catch((error: unknown) => {
      if (dir !== "" && isMissing(error)) return []; // removed while we walked
      throw error;
    });
    for (const entry of entries) {
      const path = dir === "" ? entry.name : `${dir}/${entry.name}`;
      if (entry.isDirectory()) {
        if (ALWAYS_SKIPPED.has(entry.name) || ignored(path) || ignored(`${path}/`)) continue;
        pending.push(path);
      } else if ((entry.isFile() || entry.isSymbolicLink()) && !ignored(path)) {
        found.push(path);
      }
    }
  }
  return found;
}

/** Reads one entry: its hash, and its bytes when it is at most `keepUpTo` bytes (0: never). */
async function readEntry(
  absolute: string,
  keepUpTo: number,
  cache: HashCache | undefined,
): Promise<{ file: HashedFile; bytes: Buffer | undefined } | undefined> {
  try {
    const hashedAt = Date.now();
    const stat = await lstat(absolute, { bigint: true });
    if (stat.isSymbolicLink()) {
      const target = Buffer.from(await readlink(absolute), "utf8");
      return { file: { sha256: sha256(target), size: target.length, kind: "symlink" }, bytes: target };
    }
    if (!stat.isFile()) return undefined;
    const mode = Number(stat.mode & 0o777n);
    const size = Number(stat.size);
    const stamp = `${stat.size}:${stat.mtimeNs}:${stat.ctimeNs}:${stat.ino}`;
    const cached = cache?.lookup(absolute, stamp);
    if (cached) return { file: { sha256: cached, size, kind: "file", mode }, bytes: undefined };
    let file: HashedFile;
    let bytes: Buffer | undefined;
    if (size > Math.max(READ_WHOLE_BYTES, keepUpTo)) {
      const streamed = await streamHash(absolute);
      file = { sha256: streamed.hash, size: streamed.size, kind: "file", mode };
    } else {
      const read = await readFile(absolute, { flag: "r" });
      file = { sha256: sha256(read), size: read.length, kind: "file", mode };
      bytes = read.length <= keepUpTo ? read : undefined;
    }
    // Cached only when what was read is what was stat'ed (the file did not change meanwhile).
    if (file.size === size) cache?.remember(absolute, stamp, file.sha256, Number(stat.mtimeMs), hashedAt);
    return { file, bytes };
  } catch (error) {
    if (isMissing(error)) return undefined;
    throw new AsmError("storage_error", `cannot read ${absolute}: ${(error as Error).message}`, {
      details: { path: absolute },
      cause: error,
    });
  }
}

function streamHash(path: string): Promise<{ hash: string; size: number }> {
  return new Promise((resolve, reject) => {
    const hash = createHash("sha256");
    let size = 0;
    createReadStream(path)
      .on("data", (chunk: Buffer | string) => {
        const bytes = typeof chunk === "string" ? Buffer.from(chunk) : chunk;
        size += bytes.length;
        hash.update(bytes);
      })
      .on("error", reject)
      .on("end", () => resolve({ hash: hash.digest("hex"), size }));
  });
}

function manifestHash(files: Record<string, HashedFile>): string {
  const hash = createHash("sha256");
  for (const [path, file] of Object.entries(files))
    hash.update(`${path}:${file.kind}:${file.mode ?? ""}:${file.sha256}\n`);
  return hash.digest("hex");
}

function sha256(bytes: Buffer): string {
  return createHash("sha256").update(bytes).digest("hex");
}

/**
 * A matcher of relative paths for glob patterns: `**` spans directories, `*` and `?` stay within
 * one name; a pattern without `/` matches a name at any depth; a pattern matching a directory
 * excludes everything below it.
 */
export function compileGlobs(globs: readonly string[]): (path: string) => boolean {
  const patterns = globs.map((glob) => {
    const trimmed = glob.replace(/^\//, "").replace(/\/$/, "");
    const anchored = glob.replace(/\/$/, "").includes("/") ? trimmed : `**/${trimmed}`;
    return new RegExp(`^${globSource(anchored)}(?:/.*)?$`);
  });
  return (path) => {
    const clean = path.replace(/\/$/, "");
    return patterns.some((pattern) => pattern.test(clean));
  };
}

function globSource(glob: string): string {
  let source = "";
  for (let index = 0; index < glob.length; index++) {
    const char = glob[index] ?? "";
    if (char === "*" && glob[index + 1] === "*") {
      // "**/" matches zero or more directories; a trailing "**" anything below.
      if (glob[index + 2] === "/") {
        source += "(?:.*/)?";
        index += 2;
      } else {
        source += ".*";
        index += 1;
      }
    } else if (char === "*") source += "[^/]*";
    else if (char === "?") source += "[^/]";
    else source += char.replace(/[.+^${}()|[\]\\]/g, "\\$&");
  }
  return source;
}

async function forEachLimited<T>(
  items: readonly T[],
  limit: number,
  each: (item: T) => Promise<void>,
): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const item = items[next++] as T;
      await each(item);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}

function isMissing(error: unknown): boolean {
  return error instanceof Error && "code" in error && (error.code === "ENOENT" || error.code === "ENOTDIR");
}

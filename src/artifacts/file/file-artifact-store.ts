import { createHash, randomBytes } from "node:crypto";
import { type BigIntStats, constants } from "node:fs";
import { type FileHandle, lstat, mkdir, open, realpath, rename, rm, rmdir, unlink } from "node:fs/promises";
import { dirname, join, resolve, sep } from "node:path";
import type { Readable } from "node:stream";
import { AsmError } from "../../core/errors.js";
import type { ArtifactInfo, ArtifactStore, PutArtifactOptions } from "../../ports/artifact-store.js";
import { bodyBytes, plainBytes, sha256Hex, withAsmErrors } from "../shared/artifact-body.js";
import {
  DEFAULT_ARTIFACT_CONTENT_TYPE,
  normalizePutOptions,
  parseArtifactKey,
} from "../shared/artifact-key.js";
import { type BodyStamp, decodeSidecar, encodeSidecar, type Sidecar, sameStamp, stampOf } from "./sidecar.js";

export interface FileArtifactStoreOptions {
  /**
   * The directory that holds the artifacts, created with its parents on first use. A relative
   * path is resolved against the working directory when the store is constructed.
   */
  root: string;
  /**
   * Whether a put is on disk when it resolves: the body and its sidecar are fsynced before their
   * renames, and their directories after. Default `true`. Without it a crash can lose a put that
   * resolved, but a body is still never torn: the rename still makes it appear whole or not at all.
   */
  durable?: boolean;
}

/** Bodies live under `<root>/objects/<key>`, byte for byte, so the tree can be browsed. */
const OBJECTS_DIR = "objects";
/** Sidecars live under `<root>/meta/<key>`: the same relative path in a parallel tree. */
const META_DIR = "meta";

/** Bytes per write call: bounds how long one call holds a libuv thread. */
const WRITE_CHUNK_BYTES = 4 * 1024 * 1024;
/** Bytes per read call when hashing a body whose sidecar is stale. */
const HASH_CHUNK_BYTES = 1024 * 1024;
/**
 * Attempts at creating a temporary file. A delete of a sibling prunes empty directories, so the
 * directory a put just made can vanish before the put opens its file there; that is retried.
 */
const CREATE_ATTEMPTS = 3;

// O_NOFOLLOW: a symlink planted at a key's own path is refused rather than followed out of the root.
const READ_FLAGS = constants.O_RDONLY | constants.O_NOFOLLOW;
const CREATE_FLAGS = constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW;

/** The two trees' real paths. */
interface Roots {
  objects: string;
  meta: string;
}

/** Where one key goes in one tree. */
interface Target {
  /** Real path of the tree (`objects` or `meta`). */
  base: string;
  dir: string;
  leaf: string;
  path: string;
}

/** Why a key cannot be stored: the file system cannot hold both `a` and `a/b` as files. */
class PathConflict extends Error {
  constructor(readonly kind: "ancestor_is_artifact" | "has_descendants") {
    super(kind);
  }
}

/**
 * An `ArtifactStore` on a local directory.
 *
 * Layout: the body of key `k` is the file `<root>/objects/k`; its sidecar (size, sha256, content
 * type and a stamp of the body file, see `Sidecar`) is `<root>/meta/k`. The body is the truth;
 * `head` re-hashes it when the sidecar is missing or describes another version of the file.
 *
 * Atomicity: a put writes a temporary file (`.<name>.<random>.tmp`) in the key's own directory,
 * fsyncs it, and renames it over the key, so readers see the old body or the new one, never a
 * mix, even if the process dies mid-write (a leftover temporary file is invisible to every method).
 * The sidecar is replaced the same way after the body.
 *
 * Confinement: keys are validated (no `..`, no absolute paths), and before touching a path the
 * store checks that the real path of its directory is inside the root, so a symlink planted in the
 * root cannot lead a put, get or delete outside it; a symlink at a key's own path is refused.
 * These checks guard against links present before a call, not against a process that swaps
 * directories for links while the call runs (Node has no `openat`).
 *
 * Limits: a key cannot be stored when another key is a path prefix of it or it of another
 * (`a` and `a/b`), since one name cannot be a file and a directory: such a put is
 * `already_exists`. Empty directories are removed on delete. I/O failures are `storage_error`
 * with `details.path`.
 */
export class FileArtifactStore implements ArtifactStore {
  /** Absolute path of the root directory. */
  readonly root: string;
  readonly #durable: boolean;
  #roots: Promise<Roots> | undefined;
  #closed = false;

  constructor(options: FileArtifactStoreOptions) {
    if (typeof options?.root !== "string" || options.root === "") {
      throw new AsmError("validation_error", "FileArtifactStore needs a root directory", {
        details: { field: "root" },
      });
    }
    this.root = resolve(options.root);
    this.#durable = options.durable ?? true;
  }

  async put(key: string, body: Uint8Array | string, options?: PutArtifactOptions): Promise<ArtifactInfo> {
    const segments = parseArtifactKey(key);
    const { contentType } = normalizePutOptions(key, options);
    const bytes = bodyBytes(key, body);
    this.#assertOpen();
    const info = { key, size: bytes.byteLength, sha256: sha256Hex(bytes), contentType };
    try {
      const roots = await this.#ready();
      const stamp = await this.#writeBody(key, target(roots.objects, segments), bytes);
      await this.#writeSidecar(roots.meta, segments, encodeSidecar(info, stamp));
      return info;
    } catch (error) {
      throw ioError(error, key, "put", join(this.root, OBJECTS_DIR, key));
    }
  }

  async get(key: string): Promise<Uint8Array> {
    const handle = await this.#openBody(key, "get");
    try {
      return plainBytes(await handle.readFile());
    } catch (error) {
      throw ioError(error, key, "get", join(this.root, OBJECTS_DIR, key));
    } finally {
      await handle.close();
    }
  }

  /**
   * The body as a stream, for artifacts too large to hold in memory; rejects with `not_found`
   * like `get`. Read errors surface as `storage_error` on the stream. Read it to the end or
   * destroy it: until then it holds a file descriptor.
   */
  async getStream(key: string): Promise<Readable> {
    const handle = await this.#openBody(key, "getStream");
    const path = join(this.root, OBJECTS_DIR, key);
    return withAsmErrors(handle.createReadStream({ autoClose: true }), (error) =>
      ioError(error, key, "getStream", path),
    );
  }

  async head(key: string): Promise<ArtifactInfo | null> {
    const segments = parseArtifactKey(key);
    this.#assertOpen();
    try {
      const roots = await this.#ready();
      const body = target(roots.objects, segments);
      if (!(await this.#dirInside(key, body))) return null;
      const stats = await lstatOrUndefined(body.path);
      if (stats === undefined || stats.isDirectory()) return null;
      if (!stats.isFile()) throw notRegularFile(key, body.path);
      const sidecar = await this.#readSidecar(key, target(roots.meta, segments));
      if (sidecar !== undefined && sameStamp(sidecar, stampOf(stats))) return infoOf(key, sidecar);
      return await this.#rehash(key, roots, segments, sidecar?.contentType);
    } catch (error) {
      throw ioError(error, key, "head", join(this.root, OBJECTS_DIR, key));
    }
  }

  async delete(key: string): Promise<void> {
    const segments = parseArtifactKey(key);
    this.#assertOpen();
    try {
      const roots = await this.#ready();
      // Sidecar first: a crash in between leaves a body without a sidecar, which `head` repairs,
      // rather than a sidecar that outlives its body.
      for (const base of [roots.meta, roots.objects]) {
        const entry = target(base, segments);
        if (!(await this.#dirInside(key, entry))) continue;
        try {
          await unlink(entry.path);
        } catch (error) {
          // EISDIR/EPERM: the key is only a prefix of other keys, so there is no artifact to delete.
          if (hasCode(error, "ENOENT", "ENOTDIR", "EISDIR", "EPERM")) continue;
          throw error;
        }
        if (this.#durable) await syncDir(entry.dir);
        await pruneEmptyDirs(base, entry.dir);
      }
    } catch (error) {
      throw ioError(error, key, "delete", join(this.root, OBJECTS_DIR, key));
    }
  }

  /** Marks the store closed: later calls reject with `storage_connection_failed`. Idempotent. */
  async close(): Promise<void> {
    this.#closed = true;
  }

  #assertOpen(): void {
    if (this.#closed) {
      throw new AsmError("storage_connection_failed", "file artifact store is closed", {
        details: { root: this.root },
        hint: "Open a new store; a closed one cannot be reused.",
      });
    }
  }

  /** Creates the root and both trees once; a failure is retried by the next call. */
  #ready(): Promise<Roots> {
    if (this.#roots === undefined) {
      const roots = this.#createRoots();
      this.#roots = roots;
      roots.catch(() => {
        if (this.#roots === roots) this.#roots = undefined;
      });
    }
    return this.#roots;
  }

  async #createRoots(): Promise<Roots> {
    await mkdir(this.root, { recursive: true });
    const realRoot = await realpath(this.root);
    const tree = async (name: string): Promise<string> => {
      const path = join(realRoot, name);
      await mkdir(path, { recursive: true });
      if ((await realpath(path)) !== path) {
        throw escapeError(undefined, path, await realpath(path));
      }
      return path;
    };
    return { objects: await tree(OBJECTS_DIR), meta: await tree(META_DIR) };
  }

  /**
   * Opens the body of `key` for reading: `not_found` when there is none (a directory, being only
   * a prefix of other keys, is none either).
   */
  async #openBody(key: string, operation: string): Promise<FileHandle> {
    const segments = parseArtifactKey(key);
    this.#assertOpen();
    const path = join(this.root, OBJECTS_DIR, key);
    let handle: FileHandle | undefined;
    try {
      const body = target((await this.#ready()).objects, segments);
      if (await this.#dirInside(key, body)) handle = await openOrUndefined(body.path, READ_FLAGS);
      if (handle !== undefined) {
        const stats = await handle.stat();
        if (stats.isFile()) return handle;
        if (!stats.isDirectory()) throw notRegularFile(key, body.path);
      }
    } catch (error) {
      await handle?.close();
      if (hasCode(error, "ELOOP")) throw notRegularFile(key, path);
      throw ioError(error, key, operation, path);
    }
    await handle?.close();
    throw new AsmError("not_found", `artifact ${key} not found`, { details: { key } });
  }

  /**
   * Whether the directory `entry` goes in exists, checking that its real path is inside the tree.
   * @throws AsmError `storage_error` when a symlink leads outside the root.
   */
  async #dirInside(key: string, entry: Target): Promise<boolean> {
    let real: string;
    try {
      // The trailing separator makes a file where the folder should be ENOTDIR, like a missing one.
      real = await realpath(entry.dir + sep);
    } catch (error) {
      if (hasCode(error, "ENOENT", "ENOTDIR")) return false;
      throw error;
    }
    if (real !== entry.base && !real.startsWith(entry.base + sep)) throw escapeError(key, entry.dir, real);
    return true;
  }

  /**
   * Creates `entry.dir` inside the tree. The deepest existing ancestor is checked first, since
   * `mkdir -p` follows symlinks and would otherwise create directories outside the root before
   * any check could refuse the key.
   */
  async #makeDirInside(key: string, entry: Target): Promise<void> {
    let existing = entry.dir;
    while (!(await this.#dirInside(key, { ...entry, dir: existing }))) {
      if (existing === entry.base) break;
      existing = dirname(existing);
    }
    if (existing === entry.dir) return;
    await mkdir(entry.dir, { recursive: true });
    if (!(await this.#dirInside(key, entry))) {
      throw Object.assign(new Error(`directory ${entry.dir} vanished`), { code: "ENOENT", path: entry.dir });
    }
  }

  async #writeBody(key: string, body: Target, bytes: Uint8Array): Promise<BodyStamp> {
    try {
      return await this.#writeAtomically(key, body, bytes);
    } catch (error) {
      if (!(error instanceof PathConflict)) throw error;
      const blocker = error.kind === "ancestor_is_artifact" ? await fileAncestor(body) : undefined;
      throw new AsmError(
        "already_exists",
        blocker === undefined
          ? `artifact key ${key} is a folder of other artifacts in this file store`
          : `artifact key ${key} needs a folder where artifact ${blocker} is stored`,
        {
          details: {
            key,
            conflict: error.kind,
            ...(blocker === undefined ? {} : { conflictingKey: blocker }),
          },
          hint: "The file store cannot hold both `a` and `a/b`; pick keys where no key is a prefix folder of another.",
        },
      );
    }
  }

  /**
   * Writes the sidecar. The meta tree mirrors the objects tree, where this key was just written,
   * so whatever blocks its path here is a sidecar orphaned by a delete that raced a put: cleared.
   */
  async #writeSidecar(metaBase: string, segments: readonly string[], bytes: Uint8Array): Promise<void> {
    const entry = target(metaBase, segments);
    const key = segments.join("/");
    try {
      await this.#writeAtomically(key, entry, bytes);
    } catch (error) {
      if (!(error instanceof PathConflict)) throw error;
      const blocker = await fileAncestor(entry);
      if (blocker === undefined) await rm(entry.path, { recursive: true, force: true });
      else await unlink(join(metaBase, blocker));
      await this.#writeAtomically(key, entry, bytes);
    }
  }

  /** Temp file, write, fsync, rename over the target; returns the stamp of the file now there. */
  async #writeAtomically(key: string, entry: Target, bytes: Uint8Array): Promise<BodyStamp> {
    for (let attempt = 1; ; attempt++) {
      try {
        await this.#makeDirInside(key, entry);
      } catch (error) {
        if (hasCode(error, "ENOTDIR", "EEXIST")) throw new PathConflict("ancestor_is_artifact");
        if (hasCode(error, "ENOENT") && attempt < CREATE_ATTEMPTS) continue;
        throw error;
      }
      const temp = join(entry.dir, `.${entry.leaf}.${randomBytes(6).toString("hex")}.tmp`);
      let handle: FileHandle;
      try {
        handle = await open(temp, CREATE_FLAGS, 0o666);
      } catch (error) {
        if (hasCode(error, "ENOENT") && attempt < CREATE_ATTEMPTS) continue;
        throw error;
      }
      try {
        let stamp: BodyStamp;
        try {
          await writeAll(handle, bytes);
          if (this.#durable) await handle.sync();
          stamp = stampOf(await handle.stat({ bigint: true }));
        } finally {
          await handle.close();
        }
        await renameOver(temp, entry.path);
        if (this.#durable) await syncDir(entry.dir);
        return stamp;
      } catch (error) {
        await unlink(temp).catch(() => undefined);
        throw error;
      }
    }
  }

  async #readSidecar(key: string, entry: Target): Promise<Sidecar | undefined> {
    if (!(await this.#dirInside(key, entry))) return undefined;
    const handle = await openOrUndefined(entry.path, READ_FLAGS).catch((error: unknown) => {
      // A link or a folder where a sidecar should be is as good as no sidecar: head re-hashes.
      if (hasCode(error, "ELOOP", "EISDIR")) return undefined;
      throw error;
    });
    if (handle === undefined) return undefined;
    try {
      return decodeSidecar(await handle.readFile("utf8"));
    } catch (error) {
      if (hasCode(error, "EISDIR")) return undefined;
      throw error;
    } finally {
      await handle.close();
    }
  }

  /** Hashes the body again and caches the result in a new sidecar. */
  async #rehash(
    key: string,
    roots: Roots,
    segments: readonly string[],
    contentType: string | undefined,
  ): Promise<ArtifactInfo | null> {
    const handle = await openOrUndefined(target(roots.objects, segments).path, READ_FLAGS);
    if (handle === undefined) return null;
    const read = await hashBody(handle).finally(() => handle.close());
    if (read === undefined) return null;
    // The last recorded type is the best guess left: a key usually keeps its type across puts.
    const info = {
      key,
      size: read.size,
      sha256: read.sha256,
      contentType: contentType ?? DEFAULT_ARTIFACT_CONTENT_TYPE,
    };
    if (read.stable) {
      // Only a cache: if it cannot be written the body is still right, and the next head retries.
      await this.#writeSidecar(roots.meta, segments, encodeSidecar(info, read.stamp)).catch(() => undefined);
    }
    return info;
  }
}

function target(base: string, segments: readonly string[]): Target {
  const path = join(base, ...segments);
  return { base, dir: dirname(path), leaf: segments[segments.length - 1] ?? "", path };
}

function infoOf(key: string, sidecar: Sidecar): ArtifactInfo {
  return { key, size: sidecar.size, sha256: sidecar.sha256, contentType: sidecar.contentType };
}

async function writeAll(handle: FileHandle, bytes: Uint8Array): Promise<void> {
  let offset = 0;
  while (offset < bytes.byteLength) {
    const length = Math.min(WRITE_CHUNK_BYTES, bytes.byteLength - offset);
    const { bytesWritten } = await handle.write(bytes, offset, length);
    offset += bytesWritten;
  }
}

/**
 * Size and sha256 of an open body, with the stamp of the file read; `undefined` for a directory.
 * `stable` is false when the file changed while it was read (rewritten in place by someone else):
 * the hash may then mix versions and must not be cached.
 */
async function hashBody(
  handle: FileHandle,
): Promise<{ sha256: string; size: number; stamp: BodyStamp; stable: boolean } | undefined> {
  const before = await handle.stat({ bigint: true });
  if (before.isDirectory()) return undefined;
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

/** Renames a file over `path`, clearing an empty directory there first (left by a crash). */
async function renameOver(temp: string, path: string): Promise<void> {
  try {
    await rename(temp, path);
  } catch (error) {
    if (!hasCode(error, "EISDIR")) throw error;
    try {
      await rmdir(path);
    } catch (inner) {
      if (hasCode(inner, "ENOTEMPTY", "EEXIST")) throw new PathConflict("has_descendants");
      if (!hasCode(inner, "ENOENT")) throw inner;
    }
    await rename(temp, path);
  }
}

/** The key of the nearest ancestor of `entry` that is not a directory, if there is one. */
async function fileAncestor(entry: Target): Promise<string | undefined> {
  const relative = entry.path.slice(entry.base.length + 1).split(sep);
  for (let count = 1; count < relative.length; count++) {
    const stats = await lstatOrUndefined(join(entry.base, ...relative.slice(0, count)));
    if (stats === undefined) return undefined;
    if (!stats.isDirectory()) return relative.slice(0, count).join("/");
  }
  return undefined;
}

/** Removes `dir` and its parents while they are empty, up to (not including) `base`. */
async function pruneEmptyDirs(base: string, dir: string): Promise<void> {
  for (let current = dir; current !== base && current.startsWith(base + sep); current = dirname(current)) {
    try {
      await rmdir(current);
    } catch {
      // Not empty (or already gone, or a put just made it): stop here, it is still in use.
      return;
    }
  }
}

async function syncDir(dir: string): Promise<void> {
  const handle = await open(dir, constants.O_RDONLY);
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

async function openOrUndefined(path: string, flags: number): Promise<FileHandle | undefined> {
  try {
    return await open(path, flags);
  } catch (error) {
    if (hasCode(error, "ENOENT", "ENOTDIR")) return undefined;
    throw error;
  }
}

async function lstatOrUndefined(path: string): Promise<BigIntStats | undefined> {
  try {
    return await lstat(path, { bigint: true });
  } catch (error) {
    if (hasCode(error, "ENOENT", "ENOTDIR")) return undefined;
    throw error;
  }
}

function hasCode(error: unknown, ...codes: string[]): boolean {
  return (
    typeof error === "object" &&
    error !== null &&
    "code" in error &&
    typeof error.code === "string" &&
    codes.includes(error.code)
  );
}

function escapeError(key: string | undefined, path: string, realPath: string): AsmError {
  return new AsmError("storage_error", `path ${path} leads outside the artifact root (to ${realPath})`, {
    details: { ...(key === undefined ? {} : { key }), path, realPath },
    hint: "A symlink inside the artifact root points outside it; remove the link.",
  });
}

function notRegularFile(key: string, path: string): AsmError {
  return new AsmError("storage_error", `artifact ${key} is not a regular file (${path})`, {
    details: { key, path },
    hint: "Something other than this store put a link or special file in the artifact root; remove it.",
  });
}

/** Any failure as an AsmError: ours pass through, file system errors become `storage_error`. */
function ioError(error: unknown, key: string, operation: string, fallbackPath: string): AsmError {
  if (error instanceof AsmError) return error;
  const fields = typeof error === "object" && error !== null ? (error as Record<string, unknown>) : {};
  const path = typeof fields.path === "string" ? fields.path : fallbackPath;
  const message = error instanceof Error ? error.message : String(error);
  return new AsmError("storage_error", `artifact ${operation} of ${key} failed: ${message}`, {
    details: {
      key,
      operation,
      path,
      ...(typeof fields.code === "string" ? { errno: fields.code } : {}),
    },
    cause: error,
  });
}

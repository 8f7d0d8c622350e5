import { randomBytes } from "node:crypto";
import { realpath, stat } from "node:fs/promises";
import { resolve } from "node:path";
import { AsmError } from "../core/errors.js";
import type { ArtifactStore } from "../ports/artifact-store.js";
import {
  DEFAULT_SNAPSHOT_RETENTION,
  findGitRepository,
  type GitRepository,
  gitDiff,
  gitRollback,
  pruneGitSnapshots,
  SnapshotRefs,
  takeGitSnapshot,
} from "./git-backend.js";
import {
  DEFAULT_HASH_IGNORE,
  DEFAULT_KEPT_CONTENT_BYTES,
  HashCache,
  hashDiff,
  hashRollback,
  takeHashSnapshot,
} from "./hash-backend.js";
import type {
  RollbackReport,
  WorkspaceBackendName,
  WorkspaceDiff,
  WorkspaceSnapshot,
  WorkspaceStrategy,
} from "./types.js";

/** Default inline patch cap: 1 MiB. */
export const DEFAULT_MAX_PATCH_BYTES = 1_048_576;
/** Largest patch read to be stored in an artifact store: 64 MiB. Bigger ones are dropped. */
export const MAX_STORED_PATCH_BYTES = 64 * 1_048_576;

export interface WorkspaceOptions {
  /**
   * Where a patch over `maxPatchBytes` is stored (key `workspace/patches/…`, `text/x-diff`); the
   * diff then carries `patchRef`. Without one such a patch is dropped (`patchTruncated`).
   * Default: none.
   */
  artifactStore?: ArtifactStore;
  /** git: snapshot refs kept per repository (`refs/asm/snapshots/*`), newest first. Default 50. */
  retention?: number;
  /** Limit of each git command. Default 120000 ms. */
  commandTimeoutMs?: number;
}

export interface SnapshotOptions {
  /** Default `auto`: `git` when the path is inside a git work tree, else `hash`. */
  strategy?: WorkspaceStrategy;
  /** Recorded on the snapshot (and in its commit message for git). */
  label?: string;
  /**
   * Globs of paths to leave out, relative to the path: `**` spans directories, `*` and `?` stay
   * within a name, a glob without `/` matches at any depth. git also honours `.gitignore`.
   * Default: none for git; `["node_modules"]` for hash (giving `ignore` replaces it).
   */
  ignore?: readonly string[];
  /**
   * hash only: keep the files' contents in memory so `rollback` can restore them — `true` for
   * up to 64 MiB in all, or `{ maxBytes }`. Over the cap the snapshot keeps none
   * (`hasContents: false`). Default false.
   */
  keepContents?: boolean | { maxBytes: number };
}

export interface DiffOptions {
  /** Make the unified patch (binary files summarised as "Binary files … differ"). Default false. */
  capturePatch?: boolean;
  /** Patches up to this size are inline (`patch`); larger ones go to the artifact store. Default 1 MiB. */
  maxPatchBytes?: number;
}

export interface RollbackOptions {
  /** The directory the caller means to roll back; a snapshot of another path is refused. */
  path?: string;
}

/**
 * Snapshots of a directory, the diff between two, and rollback to one.
 *
 * - **git** (inside a work tree): untracked files included, `.gitignore` honoured, and the
 *   user's HEAD, index, stash, branches and working tree untouched — the snapshot is a commit
 *   built in a temporary index and kept under `refs/asm/snapshots/<id>` (the newest `retention`
 *   kept). Diffs count files, lines (binary files listed, not counted) and can carry the patch.
 *   Rollback rewrites the working tree's files to the snapshot and removes files created since
 *   (ignored files and nested repositories are left alone); HEAD, index and refs stay as they are.
 * - **hash** (any directory): a SHA-256 per file, symlinks recorded by target and never followed;
 *   diffs list added, modified and deleted files (no line counts, no patch). Rollback only to a
 *   snapshot taken with `keepContents` in this process, else `capability_not_supported`.
 *
 * Errors: a missing path is `not_found`; not a directory, `strategy: "git"` outside a work tree,
 * or diffing snapshots of different paths or backends is `validation_error`; a git failure is
 * `storage_error`; no git installed is `dependency_not_available`.
 */
export class Workspace {
  readonly #artifactStore: ArtifactStore | undefined;
  readonly #retention: number;
  readonly #timeoutMs: number;
  readonly #refs = new SnapshotRefs();
  readonly #hashes = new HashCache();
  /** Where each directory's repository is, once found (a snapshot that fails forgets it). */
  readonly #repositories = new Map<string, GitRepository>();

  constructor(options: WorkspaceOptions = {}) {
    this.#artifactStore = options.artifactStore;
    this.#retention = positiveInteger(options.retention ?? DEFAULT_SNAPSHOT_RETENTION, "retention");
    this.#timeoutMs = positiveInteger(options.commandTimeoutMs ?? 120_000, "commandTimeoutMs");
  }

  /** The backend `auto` picks for `path`. */
  async detectBackend(path: string): Promise<WorkspaceBackendName> {
    const dir = await workspaceDirectory(path);
    return (await this.#repository(dir)) ? "git" : "hash";
  }

  async snapshot(path: string, options: SnapshotOptions = {}): Promise<WorkspaceSnapshot> {
    const dir = await workspaceDirectory(path);
    const strategy = options.strategy ?? "auto";
    if (!["git", "hash", "auto"].includes(strategy)) {
      throw new AsmError("validation_error", `unknown workspace strategy "${strategy}"`, {
        details: { strategy },
        hint: 'use "git", "hash" or "auto"',
      });
    }
    const repo = strategy === "hash" ? undefined : await this.#repository(dir);
    if (strategy === "git" && !repo) {
      throw new AsmError("validation_error", `${dir} is not inside a git work tree`, {
        details: { path: dir, strategy },
        hint: 'use strategy "hash" (or "auto") for a directory that is not a git repository',
      });
    }
    if (repo) {
      return takeGitSnapshot(dir, repo, {
        ...(options.label ? { label: options.label } : {}),
        ignore: options.ignore ?? [],
        retention: this.#retention,
        refs: this.#refs,
        timeoutMs: this.#timeoutMs,
      }).catch((error: unknown) => {
        // The repository may have moved or gone: the next snapshot looks it up again.
        this.#repositories.delete(dir);
        throw error;
      });
    }
    return takeHashSnapshot(dir, {
      ...(options.label ? { label: options.label } : {}),
      ignore: options.ignore ?? DEFAULT_HASH_IGNORE,
      keepContentBytes: keptContentBytes(options.keepContents),
      cache: this.#hashes,
    });
  }

  /**
   * What changed from `before` to `after` (same path, same backend). A patch over
   * `maxPatchBytes` is stored in the artifact store (`patchRef`, `patchBytes`), or dropped
   * (`patchTruncated`) without one; it is never cut.
   */
  async diff(
    before: WorkspaceSnapshot,
    after: WorkspaceSnapshot,
    options: DiffOptions = {},
  ): Promise<WorkspaceDiff> {
    if (before.backend !== after.backend || before.path !== after.path) {
      throw new AsmError(
        "validation_error",
        "a diff needs two snapshots of the same path by the same backend",
        {
          details: {
            before: { id: before.id, backend: before.backend, path: before.path },
            after: { id: after.id, backend: after.backend, path: after.path },
          },
        },
      );
    }
    const maxPatchBytes = options.maxPatchBytes ?? DEFAULT_MAX_PATCH_BYTES;
    if (!Number.isInteger(maxPatchBytes) || maxPatchBytes < 0) {
      throw new AsmError("validation_error", "maxPatchBytes must be a non-negative integer", {
        details: { maxPatchBytes },
      });
    }
    if (after.backend === "hash") return hashDiff(before, after);
    const store = this.#artifactStore;
    const { diff, patch, patchOverLimit } = await gitDiff(before, after, {
      capturePatch: options.capturePatch === true,
      // Without a store, reading one byte past the cap is enough to know the patch is dropped.
      patchLimitBytes: store ? Math.max(maxPatchBytes, MAX_STORED_PATCH_BYTES) : maxPatchBytes + 1,
      timeoutMs: this.#timeoutMs,
    });
    if (patch === undefined) return diff;
    const patchBytes = Buffer.byteLength(patch);
    if (!patchOverLimit && patchBytes <= maxPatchBytes) return { ...diff, patch, patchBytes };
    // Over the cap with nowhere to put it, or past what is read at all: dropped, never cut.
    if (!store || patchOverLimit) return { ...diff, patchTruncated: true };
    const key = `workspace/patches/${before.ref.slice(0, 12)}-${after.ref.slice(0, 12)}-${randomBytes(8).toString("hex")}.patch`;
    await store.put(key, patch, { contentType: "text/x-diff" });
    return { ...diff, patchRef: key, patchBytes };
  }

  /** Puts the snapshot's path back to the snapshot's state; see the class notes per backend. */
  async rollback(snapshot: WorkspaceSnapshot, options: RollbackOptions = {}): Promise<RollbackReport> {
    if (options.path !== undefined) {
      const dir = await workspaceDirectory(options.path);
      if (dir !== snapshot.path) {
        throw new AsmError("validation_error", `snapshot ${snapshot.id} is of ${snapshot.path}, not ${dir}`, {
          details: { snapshotId: snapshot.id, snapshotPath: snapshot.path, path: dir },
        });
      }
    } else {
      await workspaceDirectory(snapshot.path);
    }
    if (snapshot.backend === "git") return gitRollback(snapshot, { timeoutMs: this.#timeoutMs });
    return hashRollback(snapshot);
  }

  /** git: deletes this repository's snapshot refs beyond the newest `keep`; returns how many went. */
  async prune(path: string, keep: number = this.#retention): Promise<number> {
    const repo = await this.#repository(await workspaceDirectory(path));
    if (!repo) return 0;
    return pruneGitSnapshots(repo, this.#refs, positiveInteger(keep, "keep", 0), {
      timeoutMs: this.#timeoutMs,
    });
  }

  async #repository(dir: string): Promise<GitRepository | undefined> {
    const known = this.#repositories.get(dir);
    if (known) return known;
    const found = await findGitRepository(dir, { timeoutMs: this.#timeoutMs });
    // Only a repository is remembered: a plain directory may become one (git init) at any time.
    if (found) this.#repositories.set(dir, found);
    return found;
  }
}

/** The path, absolute and with symlinks resolved, once checked to be a directory. */
async function workspaceDirectory(path: string): Promise<string> {
  if (typeof path !== "string" || path === "" || path.includes("\0")) {
    throw new AsmError("validation_error", "a workspace path must be a non-empty string", {
      details: { path: String(path) },
    });
  }
  const absolute = resolve(path);
  const info = await stat(absolute).catch(() => undefined);
  if (!info) {
    throw new AsmError("not_found", `workspace ${absolute} does not exist`, { details: { path: absolute } });
  }
  if (!info.isDirectory()) {
    throw new AsmError("validation_error", `workspace ${absolute} is not a directory`, {
      details: { path: absolute },
    });
  }
  return realpath(absolute);
}

function keptContentBytes(keep: SnapshotOptions["keepContents"]): number {
  if (keep === undefined || keep === false) return 0;
  if (keep === true) return DEFAULT_KEPT_CONTENT_BYTES;
  return positiveInteger(keep.maxBytes, "keepContents.maxBytes");
}

function positiveInteger(value: number, name: string, min = 1): number {
  if (!Number.isInteger(value) || value < min) {
    throw new AsmError("validation_error", `${name} must be an integer ≥ ${min}`, {
      details: { [name]: value },
    });
  }
  return value;
}

/** How a workspace is snapshotted: `auto` picks `git` inside a git work tree, else `hash`. */
export type WorkspaceStrategy = "git" | "hash" | "auto";

/** The backend a snapshot was taken with. */
export type WorkspaceBackendName = "git" | "hash";

/** A workspace's state at one moment. Plain JSON: it can be stored, logged and sent. */
export interface WorkspaceSnapshot {
  /** `snap_…`, time-ordered. */
  id: string;
  backend: WorkspaceBackendName;
  /** The snapshotted directory, absolute and with symlinks resolved. */
  path: string;
  /**
   * What the state is known by: for `git` the snapshot commit (kept alive by the ref
   * `refs/asm/snapshots/<id>`), for `hash` the SHA-256 of the sorted `path:hash` lines.
   */
  ref: string;
  label?: string;
  /** ISO 8601. */
  takenAt: string;
  /** Files git does not track (and does not ignore) are in the snapshot. Always true. */
  includesUntracked: boolean;
  /** git: the repository's top level, its git dir and the snapshotted path relative to the top (`.` for all). */
  git?: { root: string; gitDir: string; pathspec: string; headCommit: string | null };
  /**
   * hash: every file under the path (relative, `/`-separated) with its SHA-256; a symlink is
   * hashed by its target text (`kind: "symlink"`), never followed.
   */
  files?: Record<string, HashedFile>;
  /** hash: the snapshot kept the files' contents (`keepContents`), so it can be rolled back to. */
  hasContents?: boolean;
  /** The ignore globs it was taken with: a rollback leaves what they match alone. */
  ignore?: string[];
}

export interface HashedFile {
  sha256: string;
  size: number;
  kind: "file" | "symlink";
  /** Permission bits (`mode & 0o777`) of a regular file. */
  mode?: number;
}

/** What changed between two snapshots of the same path. */
export interface WorkspaceDiff {
  backend: WorkspaceBackendName;
  path: string;
  /** The `ref`s of the two snapshots. */
  fromRef: string;
  toRef: string;
  filesChanged: number;
  /** Lines added and removed (text files; `hash` diffs count none: 0). */
  insertions: number;
  deletions: number;
  /** Every changed path, sorted, relative to `path`'s repository top (git) or to `path` (hash). */
  paths: string[];
  added: string[];
  modified: string[];
  deleted: string[];
  /** Changed files git sees as binary: counted, listed here, summarised in the patch, never inlined. */
  binary: string[];
  includesUntracked: boolean;
  /** The unified diff, when asked for (`capturePatch`) and within `maxPatchBytes`. */
  patch?: string;
  /** The patch's size in bytes, whenever one was made (inline, stored, or dropped). */
  patchBytes?: number;
  /** Where a patch over `maxPatchBytes` was stored (the artifact store's key). */
  patchRef?: string;
  /** A patch over `maxPatchBytes` with no artifact store to hold it: dropped, not cut. */
  patchTruncated?: boolean;
}

/** What `rollback` did. */
export interface RollbackReport {
  snapshotId: string;
  path: string;
  /** Files written back to their content at the snapshot. */
  restored: number;
  /** Files created since the snapshot, removed. */
  removed: number;
}

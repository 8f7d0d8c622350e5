import { copyFile, mkdtemp, readdir, rm, rmdir, unlink } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, isAbsolute, join, relative, resolve } from "node:path";
import { AsmError } from "../core/errors.js";
import { newId } from "../core/ids.js";
import { type ExecOptions, type ExecResult, exec } from "./exec.js";
import type { RollbackReport, WorkspaceDiff, WorkspaceSnapshot } from "./types.js";

/*
 * Git snapshots that leave the user's repository state alone: HEAD, the index, the stash, the
 * branches and the working tree are never written while snapshotting or diffing. A snapshot is
 * built in a temporary index (GIT_INDEX_FILE, a copy of the user's so unchanged files are not
 * re-hashed), `add -A` puts the working tree in it (untracked files too, .gitignore honoured),
 * and `write-tree` + `commit-tree` turn it into a commit kept alive by a private ref,
 * `refs/asm/snapshots/<id>`, which no branch, tag or `git log --all`-less command shows. Old refs
 * are deleted beyond a retention count, after which git's gc may collect their objects.
 */

/** The private ref namespace of snapshot commits. */
export const SNAPSHOT_REF_PREFIX = "refs/asm/snapshots/";
/** Snapshot refs kept per repository by default; older ones are deleted as new ones are made. */
export const DEFAULT_SNAPSHOT_RETENTION = 50;
/** Cap of a git listing's output: a listing cut short would be wrong, so it is an error instead. */
const LISTING_MAX_BYTES = 512 * 1024 * 1024;
/** git is asked for no ext-diff, textconv, pager, prompt or optional lock (index refresh). */
const GIT_ENV = {
  GIT_OPTIONAL_LOCKS: "0",
  GIT_TERMINAL_PROMPT: "0",
  GIT_PAGER: "cat",
  GIT_AUTHOR_NAME: "agent-session-manager",
  GIT_AUTHOR_EMAIL: "asm@localhost",
  GIT_COMMITTER_NAME: "agent-session-manager",
  GIT_COMMITTER_EMAIL: "asm@localhost",
};

/** A git work tree as `rev-parse` describes it. */
export interface GitRepository {
  root: string;
  gitDir: string;
  indexFile: string;
}

export interface GitCallOptions {
  timeoutMs: number;
}

/** The work tree `path` is in, or undefined when it is in none (or in a bare repository). */
export async function findGitRepository(
  path: string,
  options: GitCallOptions,
): Promise<GitRepository | undefined> {
  let result: ExecResult;
  try {
    result = await exec(
      ["git", "rev-parse", "--show-toplevel", "--absolute-git-dir", "--git-path", "index"],
      {
        cwd: path,
        env: gitEnv(),
        timeoutMs: options.timeoutMs,
      },
    );
  } catch (error) {
    if (AsmError.is(error, "command_failed")) return undefined;
    throw gitError(error, ["rev-parse"]);
  }
  const [root, gitDir, indexFile] = result.stdout.split("\n");
  if (!root || !gitDir || !indexFile) return undefined;
  return { root, gitDir, indexFile: isAbsolute(indexFile) ? indexFile : resolve(path, indexFile) };
}

/**
 * The snapshot refs of one repository as last listed or written by this process, so retention
 * needs no listing per snapshot. Refs written meanwhile by another process are seen at the next
 * `prune`, or by the next `SnapshotRefs`.
 */
export class SnapshotRefs {
  readonly #byRepository = new Map<string, Promise<string[]>>();

  /** The refs of the repository (listed once), oldest first. */
  list(repo: GitRepository, options: GitCallOptions): Promise<string[]> {
    let refs = this.#byRepository.get(repo.gitDir);
    if (!refs) {
      refs = gitRunner(
        repo.root,
        options,
      )(["for-each-ref", "--format=%(refname)", SNAPSHOT_REF_PREFIX]).then((listed) =>
        listed.stdout.split("\n").filter(Boolean).sort(),
      );
      refs.catch(() => this.#byRepository.delete(repo.gitDir));
      this.#byRepository.set(repo.gitDir, refs);
    }
    return refs;
  }

  forget(repo: GitRepository): void {
    this.#byRepository.delete(repo.gitDir);
  }
}

export interface GitSnapshotOptions extends GitCallOptions {
  label?: string;
  refs: SnapshotRefs;
  /** Globs relative to the path (`**` any directories; a glob without `/` matches at any depth). */
  ignore: readonly string[];
  retention: number;
}

export async function takeGitSnapshot(
  path: string,
  repo: GitRepository,
  options: GitSnapshotOptions,
): Promise<WorkspaceSnapshot> {
  const pathspec = relative(repo.root, path).split("\\").join("/") || ".";
  const run = gitRunner(repo.root, options);
  // HEAD is looked up while the index is built: one git process less to wait for.
  const head = resolveHead(run);
  head.catch(() => undefined); // awaited below; a failure of the add must not leave it unhandled
  return withTempIndex(async (indexFile) => {
    const seeded = await copyFile(repo.indexFile, indexFile).then(
      () => true,
      () => false,
    );
    if (!seeded) {
      const start = await head;
      if (start) await run(["read-tree", start], { indexFile });
    }
    const excludes = options.ignore.map((glob) => `:(exclude,glob)${scopedGlob(pathspec, glob)}`);
    await addAll(run, indexFile, ["--", pathspec, ...excludes]);
    const headCommit = await head;
    const tree = (await run(["write-tree"], { indexFile })).stdout.trim();
    const id = newId("snap");
    const message = `asm workspace snapshot ${id}${options.label ? ` (${options.label})` : ""}`;
    const commit = (
      await run([
        "commit-tree",
        "--no-gpg-sign",
        tree,
        ...(headCommit ? ["-p", headCommit] : []),
        "-m",
        message,
      ])
    ).stdout.trim();
    await storeRef(
      run,
      await options.refs.list(repo, options),
      `${SNAPSHOT_REF_PREFIX}${id}`,
      commit,
      options.retention,
    );
    return {
      id,
      backend: "git",
      path,
      ref: commit,
      ...(options.label ? { label: options.label } : {}),
      takenAt: new Date().toISOString(),
      includesUntracked: true,
      ...(options.ignore.length > 0 ? { ignore: [...options.ignore] } : {}),
      git: { root: repo.root, gitDir: repo.gitDir, pathspec, headCommit },
    };
  });
}

async function resolveHead(run: GitRun): Promise<string | null> {
  // Exit 1 (with -q): HEAD names no commit yet — a repository with no commits.
  const head = await run(["rev-parse", "-q", "--verify", "HEAD^{commit}"], { successExitCodes: [0, 1] });
  return head.exitCode === 0 ? head.stdout.trim() : null;
}

/** Attempts of `add -A` while files vanish between git listing and reading them. */
const ADD_ATTEMPTS = 10;

/**
 * `git add -A` into the temporary index. A file deleted after git listed it and before git read
 * it makes the add fail ("unable to stat"); the add is retried, since the next listing no longer
 * has it. A workspace that keeps changing that way through every attempt is a `storage_error`.
 */
async function addAll(run: GitRun, indexFile: string, pathspecs: readonly string[]): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      await run(["add", "-A", ...pathspecs], { indexFile });
      return;
    } catch (error) {
      const vanished =
        AsmError.is(error, "storage_error") &&
        /unable to (stat|index)|No such file/i.test(String(error.details.stderr));
      if (!vanished || attempt >= ADD_ATTEMPTS) throw error;
      // A short, growing pause: a burst of deletions (a build cleaning up) is usually over soon.
      await new Promise((resolve) => setTimeout(resolve, 5 * attempt));
    }
  }
}

/** The changes between two git snapshots of the same path; the patch as bytes when asked for. */
export async function gitDiff(
  before: WorkspaceSnapshot,
  after: WorkspaceSnapshot,
  options: GitCallOptions & { capturePatch: boolean; patchLimitBytes: number },
): Promise<{ diff: WorkspaceDiff; patch: string | undefined; patchOverLimit: boolean }> {
  const git = requireGit(after);
  const run = gitRunner(git.root, options);
  const range = [before.ref, after.ref, "--", git.pathspec];
  const listing = await run(["diff-tree", "-r", "-z", "--no-renames", "--raw", "--numstat", ...range]);
  const diff = parseDiffTree(listing.stdout, before, after);
  if (!options.capturePatch || diff.filesChanged === 0)
    return { diff, patch: undefined, patchOverLimit: false };
  const patch = await run(["diff-tree", "-r", "-p", "--no-renames", ...range], {
    maxOutputBytes: options.patchLimitBytes,
    allowTruncated: true,
  });
  return { diff, patch: patch.stdout, patchOverLimit: patch.stdoutTruncated };
}

function parseDiffTree(output: string, before: WorkspaceSnapshot, after: WorkspaceSnapshot): WorkspaceDiff {
  const diff: WorkspaceDiff = {
    backend: "git",
    path: after.path,
    fromRef: before.ref,
    toRef: after.ref,
    filesChanged: 0,
    insertions: 0,
    deletions: 0,
    paths: [],
    added: [],
    modified: [],
    deleted: [],
    binary: [],
    includesUntracked: before.includesUntracked && after.includesUntracked,
  };
  const tokens = output.split("\0");
  for (let index = 0; index < tokens.length; index++) {
    const token = tokens[index] ?? "";
    if (token === "") continue;
    if (token.startsWith(":")) {
      // ":<old mode> <new mode> <old sha> <new sha> <status>", then the path as the next token.
      const status = token.slice(-1);
      const path = tokens[++index] ?? "";
      diff.paths.push(path);
      (status === "A" ? diff.added : status === "D" ? diff.deleted : diff.modified).push(path);
      continue;
    }
    const [added, removed, ...rest] = token.split("\t");
    if (added === "-" && removed === "-") diff.binary.push(rest.join("\t"));
    else {
      diff.insertions += Number(added) || 0;
      diff.deletions += Number(removed) || 0;
    }
  }
  diff.paths.sort();
  diff.filesChanged = diff.paths.length;
  return diff;
}

/**
 * Puts the snapshot's files back: every file the snapshot holds gets its content and mode back,
 * and every file created since (under the snapshotted path, not ignored by git) is removed.
 * HEAD, the index and every ref stay as they are: only the working tree's files change.
 * Ignored files, and nested repositories git lists as untracked directories, are left alone.
 */
export async function gitRollback(
  snapshot: WorkspaceSnapshot,
  options: GitCallOptions,
): Promise<RollbackReport> {
  const git = requireGit(snapshot);
  const repo = await findGitRepository(snapshot.path, options);
  if (!repo || repo.gitDir !== git.gitDir) {
    throw new AsmError(
      "invalid_operation",
      `${snapshot.path} is no longer the repository snapshot ${snapshot.id} was taken in`,
      {
        details: {
          snapshotId: snapshot.id,
          path: snapshot.path,
          gitDir: git.gitDir,
          found: repo?.gitDir ?? null,
        },
      },
    );
  }
  const run = gitRunner(git.root, options);
  const exists = await run(["cat-file", "-e", `${snapshot.ref}^{commit}`], { successExitCodes: [0, 1, 128] });
  if (exists.exitCode !== 0) {
    throw new AsmError("invalid_operation", `snapshot ${snapshot.id} is gone from the repository`, {
      details: { snapshotId: snapshot.id, ref: snapshot.ref },
      hint: "its ref was deleted by retention (raise retention) and its commit collected",
    });
  }
  return withTempIndex(async (indexFile) => {
    await run(["read-tree", snapshot.ref], { indexFile });
    const kept = await run(["ls-files", "-z", "--", git.pathspec], { indexFile });
    const paths = splitZ(kept.stdout);
    if (paths.length > 0) {
      await run(["checkout-index", "-f", "-z", "--stdin"], { indexFile, input: `${paths.join("\0")}\0` });
    }
    // Files the snapshot's ignore globs left out were never recorded: they are not "created since".
    const excludes = (snapshot.ignore ?? []).map(
      (glob) => `:(exclude,glob)${scopedGlob(git.pathspec, glob)}`,
    );
    const created = await run(
      ["ls-files", "-z", "--others", "--exclude-standard", "--", git.pathspec, ...excludes],
      { indexFile },
    );
    // A nested repository is listed as "dir/": it is not ours to delete.
    const removable = splitZ(created.stdout).filter((path) => !path.endsWith("/"));
    for (const path of removable) await unlink(join(git.root, path)).catch(ignoreMissing);
    await removeEmptiedDirectories(git.root, snapshot.path, removable);
    return {
      snapshotId: snapshot.id,
      path: snapshot.path,
      restored: paths.length,
      removed: removable.length,
    };
  });
}

/** Directories left empty by the removal of `removed`, up to (not including) the snapshotted path. */
async function removeEmptiedDirectories(
  root: string,
  stop: string,
  removed: readonly string[],
): Promise<void> {
  const directories = new Set<string>();
  for (const path of removed) {
    for (let dir = dirname(join(root, path)); dir.startsWith(`${stop}/`); dir = dirname(dir))
      directories.add(dir);
  }
  // Deepest first, so a parent is tried after its children.
  for (const dir of [...directories].sort((a, b) => b.length - a.length)) {
    const entries = await readdir(dir).catch(() => undefined);
    if (entries?.length === 0) await rmdir(dir).catch(ignoreMissing);
  }
}

/** Deletes snapshot refs of the repository beyond the newest `keep`; returns how many went. */
export async function pruneGitSnapshots(
  repo: GitRepository,
  refs: SnapshotRefs,
  keep: number,
  options: GitCallOptions,
): Promise<number> {
  refs.forget(repo); // list afresh: other processes may have added some
  return storeRef(gitRunner(repo.root, options), await refs.list(repo, options), undefined, undefined, keep);
}

type GitRun = (
  args: string[],
  options?: {
    indexFile?: string;
    input?: string;
    maxOutputBytes?: number;
    allowTruncated?: boolean;
    successExitCodes?: number[];
  },
) => Promise<ExecResult>;

function gitRunner(root: string, options: GitCallOptions): GitRun {
  return async (args, call = {}) => {
    const execOptions: ExecOptions = {
      cwd: root,
      env: gitEnv(call.indexFile),
      timeoutMs: options.timeoutMs,
      maxOutputBytes: call.maxOutputBytes ?? LISTING_MAX_BYTES,
      ...(call.input !== undefined ? { input: call.input } : {}),
      ...(call.successExitCodes ? { successExitCodes: call.successExitCodes } : {}),
    };
    let result: ExecResult;
    try {
      result = await exec(["git", ...args], execOptions);
    } catch (error) {
      throw gitError(error, args);
    }
    if (result.stdoutTruncated && !call.allowTruncated) {
      throw new AsmError(
        "storage_error",
        `git ${args[0]} printed more than ${execOptions.maxOutputBytes} bytes`,
        {
          details: { git: args.slice(0, 3) },
        },
      );
    }
    return result;
  };
}

function gitEnv(indexFile?: string): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, ...GIT_ENV };
  // Inherited repository overrides would point the commands at another repository or index.
  for (const key of ["GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE", "GIT_OBJECT_DIRECTORY"]) delete env[key];
  if (indexFile) env.GIT_INDEX_FILE = indexFile;
  return env;
}

/** Git failures are `storage_error` (git is the workspace's store); a missing git says so. */
function gitError(error: unknown, args: readonly string[]): AsmError {
  if (AsmError.is(error, "command_not_found")) {
    return new AsmError("dependency_not_available", "git is not installed (or not on PATH)", {
      hint: 'install git, or snapshot with strategy: "hash"',
      cause: error,
    });
  }
  if (AsmError.is(error, "command_failed")) {
    const stderr = typeof error.details.stderr === "string" ? error.details.stderr.trim() : "";
    return new AsmError(
      "storage_error",
      `git ${args[0]} failed${stderr ? `: ${stderr.split("\n")[0]}` : ""}`,
      {
        details: { git: args.slice(0, 3), exitCode: error.details.exitCode, stderr },
        cause: error,
      },
    );
  }
  return AsmError.from(error);
}

/**
 * Creates the snapshot's ref (when given) and deletes the oldest beyond `keep`, in one
 * transaction, keeping `known` (oldest first; snapshot ids are time-ordered) in step. Returns
 * how many were deleted.
 */
async function storeRef(
  run: GitRun,
  known: string[],
  ref: string | undefined,
  commit: string | undefined,
  keep: number,
): Promise<number> {
  if (ref) known.push(ref);
  // Taken off the list before the write, so concurrent snapshots never delete the same ref twice.
  const stale = known.splice(0, Math.max(0, known.length - keep));
  const commands = [
    ...(ref && commit ? [`create ${ref} ${commit}`] : []),
    ...stale.map((name) => `delete ${name}`),
  ];
  if (commands.length > 0) await run(["update-ref", "--stdin"], { input: `${commands.join("\n")}\n` });
  return stale.length;
}

async function withTempIndex<T>(use: (indexFile: string) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(join(tmpdir(), "asm-git-index-"));
  try {
    return await use(join(dir, "index"));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** A user glob (relative to the snapshotted path) as a pathspec glob relative to the repository top. */
function scopedGlob(pathspec: string, glob: string): string {
  const anyDepth = glob.includes("/") ? glob.replace(/^\//, "") : `**/${glob}`;
  return pathspec === "." ? anyDepth : `${pathspec}/${anyDepth}`;
}

function requireGit(snapshot: WorkspaceSnapshot): NonNullable<WorkspaceSnapshot["git"]> {
  if (snapshot.backend !== "git" || !snapshot.git) {
    throw new AsmError("validation_error", `snapshot ${snapshot.id} is not a git snapshot`, {
      details: { snapshotId: snapshot.id, backend: snapshot.backend },
    });
  }
  return snapshot.git;
}

function splitZ(output: string): string[] {
  return output.split("\0").filter(Boolean);
}

function ignoreMissing(error: unknown): void {
  if (!(error instanceof Error && "code" in error && error.code === "ENOENT")) throw error;
}

import { createHash } from "node:crypto";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { exec } from "../exec.js";

/** A temp directory for a test, removed by `remove`. */
export function tempWorkspace(prefix: string): { dir: string; remove: () => void } {
  const dir = mkdtempSync(join(tmpdir(), `asm-ws-${prefix}-`));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/** Writes files (relative path → content), creating folders. */
export function writeFiles(root: string, files: Record<string, string | Buffer>): void {
  for (const [path, content] of Object.entries(files)) {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), content);
  }
}

const TEST_GIT_ENV = {
  ...process.env,
  GIT_AUTHOR_NAME: "test",
  GIT_AUTHOR_EMAIL: "test@example.com",
  GIT_COMMITTER_NAME: "test",
  GIT_COMMITTER_EMAIL: "test@example.com",
  // Reading state must not refresh the index: the tests compare its bytes.
  GIT_OPTIONAL_LOCKS: "0",
};

/** Runs git in `cwd` as a user would (the user's identity set); resolves with stdout. */
export async function git(cwd: string, ...args: string[]): Promise<string> {
  return (await exec(["git", ...args], { cwd, env: TEST_GIT_ENV })).stdout;
}

/** A repository with `files` committed (none: no commits). */
export async function gitRepo(root: string, files?: Record<string, string | Buffer>): Promise<void> {
  await git(root, "init", "-q", "-b", "main");
  if (!files) return;
  writeFiles(root, files);
  await git(root, "add", "-A");
  await git(root, "commit", "-q", "-m", "initial");
}

export interface UserGitState {
  head: string;
  symbolicHead: string;
  indexBytes: string;
  staged: string;
  stash: string;
  refs: string;
  status: string;
}

/**
 * Everything of the user's git state a snapshot must not change: HEAD (symbolic and resolved),
 * the index file's bytes and what it stages, the stash, every ref outside refs/asm, and the
 * working tree's status.
 */
export async function userGitState(root: string): Promise<UserGitState> {
  const indexBytes = (() => {
    try {
      return createHash("sha256")
        .update(readFileSync(join(root, ".git", "index")))
        .digest("hex");
    } catch {
      return "no index";
    }
  })();
  const head = await exec(["git", "rev-parse", "-q", "--verify", "HEAD"], {
    cwd: root,
    env: TEST_GIT_ENV,
    successExitCodes: [0, 1],
  });
  return {
    head: head.stdout,
    symbolicHead: await git(root, "symbolic-ref", "HEAD"),
    indexBytes,
    staged: await git(root, "diff", "--cached", "--name-status"),
    stash: await git(root, "stash", "list"),
    refs: (await git(root, "for-each-ref", "--format=%(refname) %(objectname)"))
      .split("\n")
      .filter((line) => !line.startsWith("refs/asm/"))
      .join("\n"),
    status: await git(root, "status", "--porcelain=v1", "-uall", "--ignored"),
  };
}

import { existsSync, readFileSync, rmSync, symlinkSync, unlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { AsmError } from "../core/errors.js";
import { git, gitRepo, tempWorkspace, userGitState, writeFiles } from "./test-support/git-fixtures.js";
import { Workspace } from "./workspace.js";

const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const cleanup of cleanups.splice(0)) cleanup();
});

function workspaceDir(prefix: string): string {
  const { dir, remove } = tempWorkspace(prefix);
  cleanups.push(remove);
  return dir;
}

/** A repository with tracked, staged, unstaged, untracked and ignored files, and a stash entry. */
async function busyRepo(): Promise<string> {
  const dir = workspaceDir("busy");
  await gitRepo(dir, {
    "a.txt": "one\ntwo\n",
    "src/b.ts": "export const b = 1;\n",
    ".gitignore": "*.log\nbuild/\n",
  });
  writeFiles(dir, { "a.txt": "one\ntwo\nstashed\n" });
  await git(dir, "stash", "push", "-q", "-m", "user stash");
  writeFiles(dir, {
    "src/b.ts": "export const b = 2;\n", // staged below
    "staged-new.txt": "staged\n",
  });
  await git(dir, "add", "src/b.ts", "staged-new.txt");
  writeFiles(dir, {
    "a.txt": "one\ntwo\nthree\n", // unstaged
    "untracked.txt": "untracked\n",
    "debug.log": "ignored\n",
    "build/out.js": "ignored\n",
  });
  return dir;
}

async function rejection(promise: Promise<unknown>): Promise<AsmError> {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  if (!AsmError.is(error)) throw new Error(`expected an AsmError, got ${String(error)}`);
  return error;
}

describe("git backend", () => {
  it("snapshots tracked, staged and untracked files, not ignored ones, and leaves HEAD, index, stash, refs and tree alone", async () => {
    const dir = await busyRepo();
    const workspace = new Workspace();
    const before = await userGitState(dir);

    const snapshot = await workspace.snapshot(dir, { strategy: "git", label: "pre" });

    expect(await userGitState(dir)).toEqual(before);
    expect(snapshot).toMatchObject({ backend: "git", label: "pre", includesUntracked: true });
    expect(snapshot.git?.headCommit).toBe((await git(dir, "rev-parse", "HEAD")).trim());
    const files = (await git(dir, "ls-tree", "-r", "--name-only", snapshot.ref)).trim().split("\n");
    expect(files.sort()).toEqual([".gitignore", "a.txt", "src/b.ts", "staged-new.txt", "untracked.txt"]);
    expect(await git(dir, "show", `${snapshot.ref}:a.txt`)).toBe("one\ntwo\nthree\n");
    expect(await git(dir, "show", `${snapshot.ref}:src/b.ts`)).toBe("export const b = 2;\n");
    expect((await git(dir, "rev-parse", `refs/asm/snapshots/${snapshot.id}`)).trim()).toBe(snapshot.ref);
  });

  it("diffs two snapshots: files, lines, added/modified/deleted, binary files summarised", async () => {
    const dir = workspaceDir("diff");
    await gitRepo(dir, {
      "keep.txt": "k\n",
      "edit.txt": "a\nb\n",
      "gone.txt": "g\n",
      "img.bin": Buffer.from([0, 1, 2]),
    });
    const workspace = new Workspace();
    const before = await workspace.snapshot(dir);
    writeFiles(dir, { "edit.txt": "a\nc\nd\n", "new.txt": "n1\nn2\n", "img.bin": Buffer.from([0, 9, 9, 9]) });
    unlinkSync(join(dir, "gone.txt"));
    const after = await workspace.snapshot(dir);

    const diff = await workspace.diff(before, after, { capturePatch: true });

    expect(diff).toMatchObject({
      backend: "git",
      filesChanged: 4,
      insertions: 4, // c, d, n1, n2
      deletions: 2, // b, g
      paths: ["edit.txt", "gone.txt", "img.bin", "new.txt"],
      added: ["new.txt"],
      modified: ["edit.txt", "img.bin"],
      deleted: ["gone.txt"],
      binary: ["img.bin"],
      includesUntracked: true,
    });
    expect(diff.patch).toContain("+c\n+d\n");
    expect(diff.patch).toContain("Binary files a/img.bin and b/img.bin differ");
    expect(diff.patchBytes).toBe(Buffer.byteLength(diff.patch ?? ""));
  });

  it("rolls back tracked and untracked files exactly and removes files created since, ignored files kept", async () => {
    const dir = await busyRepo();
    const workspace = new Workspace();
    const snapshot = await workspace.snapshot(dir);
    const state = await userGitState(dir);

    writeFiles(dir, {
      "a.txt": "rewritten\n",
      "untracked.txt": "changed\n",
      "created/deep/file.txt": "new\n",
      "later.log": "ignored, created since\n",
    });
    unlinkSync(join(dir, "src/b.ts"));
    const report = await workspace.rollback(snapshot);

    expect(readFileSync(join(dir, "a.txt"), "utf8")).toBe("one\ntwo\nthree\n");
    expect(readFileSync(join(dir, "untracked.txt"), "utf8")).toBe("untracked\n");
    expect(readFileSync(join(dir, "src/b.ts"), "utf8")).toBe("export const b = 2;\n");
    expect(existsSync(join(dir, "created"))).toBe(false);
    expect(readFileSync(join(dir, "later.log"), "utf8")).toBe("ignored, created since\n");
    expect(report).toMatchObject({ snapshotId: snapshot.id, removed: 1, restored: 5 });
    // HEAD, index, stash and refs as they were; the tree as it was, plus the ignored file.
    const { status, ...rest } = await userGitState(dir);
    const { status: statusBefore, ...restBefore } = state;
    expect(rest).toEqual(restBefore);
    expect(status.trim().split("\n").sort()).toEqual(
      [...statusBefore.trim().split("\n"), "!! later.log"].sort(),
    );
  });

  it("works in a repository with no commits", async () => {
    const dir = workspaceDir("empty");
    await gitRepo(dir);
    writeFiles(dir, { "first.txt": "1\n" });
    const workspace = new Workspace();
    const before = await userGitState(dir);
    const snapshot = await workspace.snapshot(dir, { strategy: "git" });
    expect(await userGitState(dir)).toEqual(before);
    expect(snapshot.git?.headCommit).toBeNull();
    writeFiles(dir, { "second.txt": "2\n", "first.txt": "changed\n" });
    const after = await workspace.snapshot(dir, { strategy: "git" });
    const diff = await workspace.diff(snapshot, after);
    expect(diff).toMatchObject({ added: ["second.txt"], modified: ["first.txt"] });
    await workspace.rollback(snapshot);
    expect(readFileSync(join(dir, "first.txt"), "utf8")).toBe("1\n");
    expect(existsSync(join(dir, "second.txt"))).toBe(false);
    expect(await git(dir, "rev-parse", "-q", "--verify", "HEAD").catch(() => "unborn")).toBe("unborn");
  });

  it("snapshots a subdirectory only, and rolls back only it", async () => {
    const dir = workspaceDir("sub");
    await gitRepo(dir, { "pkg/a.txt": "a\n", "other/o.txt": "o\n" });
    const workspace = new Workspace();
    const snapshot = await workspace.snapshot(join(dir, "pkg"));
    expect(snapshot.git?.pathspec).toBe("pkg");
    writeFiles(dir, {
      "pkg/a.txt": "A\n",
      "pkg/new.txt": "n\n",
      "other/o.txt": "O\n",
      "other/new.txt": "n\n",
    });
    const after = await workspace.snapshot(join(dir, "pkg"));
    expect((await workspace.diff(snapshot, after)).paths).toEqual(["pkg/a.txt", "pkg/new.txt"]);
    await workspace.rollback(snapshot);
    expect(readFileSync(join(dir, "pkg/a.txt"), "utf8")).toBe("a\n");
    expect(existsSync(join(dir, "pkg/new.txt"))).toBe(false);
    expect(readFileSync(join(dir, "other/o.txt"), "utf8")).toBe("O\n");
    expect(existsSync(join(dir, "other/new.txt"))).toBe(true);
  });

  it("leaves out paths matching ignore globs, and a rollback leaves them alone", async () => {
    const dir = workspaceDir("ignore");
    await gitRepo(dir, { "a.txt": "a\n" });
    writeFiles(dir, { "tmp/cache.bin": "x", "deep/x.tmp": "x", "keep.txt": "k" });
    const workspace = new Workspace();
    const snapshot = await workspace.snapshot(dir, { ignore: ["tmp/**", "*.tmp"] });
    const files = (await git(dir, "ls-tree", "-r", "--name-only", snapshot.ref)).trim().split("\n");
    expect(files.sort()).toEqual(["a.txt", "keep.txt"]);
    writeFiles(dir, { "tmp/later.bin": "y", "other.tmp": "y", "created.txt": "c" });
    expect(await workspace.rollback(snapshot)).toMatchObject({ removed: 1 });
    expect(existsSync(join(dir, "created.txt"))).toBe(false);
    expect(existsSync(join(dir, "tmp/later.bin")) && existsSync(join(dir, "other.tmp"))).toBe(true);
    expect(existsSync(join(dir, "tmp/cache.bin")) && existsSync(join(dir, "deep/x.tmp"))).toBe(true);
  });

  it("keeps the newest `retention` snapshot refs", async () => {
    const dir = workspaceDir("retention");
    await gitRepo(dir, { "a.txt": "a\n" });
    const workspace = new Workspace({ retention: 2 });
    const ids: string[] = [];
    for (let index = 0; index < 4; index++) {
      writeFiles(dir, { "a.txt": `${index}\n` });
      ids.push((await workspace.snapshot(dir)).id);
    }
    const refs = (await git(dir, "for-each-ref", "--format=%(refname)", "refs/asm/snapshots/"))
      .trim()
      .split("\n");
    expect(refs).toEqual(ids.slice(2).map((id) => `refs/asm/snapshots/${id}`));
    expect(await workspace.prune(dir, 1)).toBe(1);
  });

  it("stores symlinks as links, never following one that points outside", async () => {
    const dir = workspaceDir("links");
    const outside = workspaceDir("outside");
    writeFileSync(join(outside, "secret.txt"), "secret\n");
    await gitRepo(dir, { "a.txt": "a\n" });
    symlinkSync(outside, join(dir, "out-dir"));
    symlinkSync(join(outside, "secret.txt"), join(dir, "out-file"));
    const workspace = new Workspace();
    const snapshot = await workspace.snapshot(dir);
    const tree = await git(dir, "ls-tree", "-r", snapshot.ref);
    expect(tree).toMatch(/^120000 blob \w+\tout-dir$/m);
    expect(tree).toMatch(/^120000 blob \w+\tout-file$/m);
    expect(tree).not.toContain("secret");
    // Rollback removes links created since without touching what they point to.
    symlinkSync(outside, join(dir, "new-link"));
    rmSync(join(dir, "out-file"));
    await workspace.rollback(snapshot);
    expect(existsSync(join(dir, "new-link"))).toBe(false);
    expect(readFileSync(join(dir, "out-file"), "utf8")).toBe("secret\n");
    expect(readFileSync(join(outside, "secret.txt"), "utf8")).toBe("secret\n");
  });

  it("refuses strategy git outside a repository, and a snapshot rolled back onto another repository", async () => {
    const plain = workspaceDir("plain");
    const workspace = new Workspace();
    const outside = await rejection(workspace.snapshot(plain, { strategy: "git" }));
    expect(outside).toMatchObject({ code: "validation_error", details: { path: expect.any(String) } });

    const dir = workspaceDir("moved");
    await gitRepo(dir, { "a.txt": "a\n" });
    const snapshot = await workspace.snapshot(dir);
    rmSync(join(dir, ".git"), { recursive: true, force: true });
    await gitRepo(dir, { "a.txt": "other\n" });
    const replaced = await rejection(workspace.rollback(snapshot));
    // Same path, a different repository: the snapshot's commit is not in it.
    expect(replaced.code).toBe("invalid_operation");
    expect(readFileSync(join(dir, "a.txt"), "utf8")).toBe("other\n");
  });
});

import {
  chmodSync,
  existsSync,
  lstatSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  symlinkSync,
  unlinkSync,
  utimesSync,
  writeFileSync,
} from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { FileArtifactStore } from "../artifacts/file/index.js";
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

async function rejection(promise: Promise<unknown>): Promise<AsmError> {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  if (!AsmError.is(error)) throw new Error(`expected an AsmError, got ${String(error)}`);
  return error;
}

describe("Workspace: backend detection", () => {
  it("picks git inside a work tree (also in a subdirectory) and hash elsewhere", async () => {
    const repo = workspaceDir("detect-git");
    await gitRepo(repo, { "sub/a.txt": "a\n" });
    const plain = workspaceDir("detect-plain");
    const workspace = new Workspace();
    expect(await workspace.detectBackend(repo)).toBe("git");
    expect(await workspace.detectBackend(join(repo, "sub"))).toBe("git");
    expect(await workspace.detectBackend(plain)).toBe("hash");
    expect((await workspace.snapshot(plain)).backend).toBe("hash");
    expect((await workspace.snapshot(repo, { strategy: "hash" })).backend).toBe("hash");
  });
});

describe("Workspace: hash backend", () => {
  it("lists added, modified and deleted files, mode changes included, no line counts", async () => {
    const dir = workspaceDir("hash");
    writeFiles(dir, { "a.txt": "a", "b/c.txt": "c", "gone.txt": "g", "run.sh": "echo", ".hidden": "h" });
    const workspace = new Workspace();
    const before = await workspace.snapshot(dir, { label: "pre" });
    writeFiles(dir, { "a.txt": "A", "b/new.txt": "n" });
    unlinkSync(join(dir, "gone.txt"));
    chmodSync(join(dir, "run.sh"), 0o755);
    const after = await workspace.snapshot(dir);
    expect(Object.keys(before.files ?? {})).toEqual([".hidden", "a.txt", "b/c.txt", "gone.txt", "run.sh"]);
    expect(before.ref).not.toBe(after.ref);
    expect(await workspace.diff(before, after, { capturePatch: true })).toMatchObject({
      backend: "hash",
      filesChanged: 4,
      added: ["b/new.txt"],
      modified: ["a.txt", "run.sh"],
      deleted: ["gone.txt"],
      insertions: 0,
      deletions: 0,
    });
    const again = await workspace.snapshot(dir);
    expect(again.ref).toBe(after.ref);
  });

  it("skips node_modules and .git by default, and ignore globs", async () => {
    const dir = workspaceDir("hash-ignore");
    writeFiles(dir, {
      "node_modules/x/index.js": "x",
      ".git/HEAD": "ref",
      "src/a.ts": "a",
      "src/a.log": "l",
      "dist/out.js": "o",
    });
    const workspace = new Workspace();
    expect(Object.keys((await workspace.snapshot(dir, { strategy: "hash" })).files ?? {})).toEqual([
      "dist/out.js",
      "src/a.log",
      "src/a.ts",
    ]);
    const filtered = await workspace.snapshot(dir, { strategy: "hash", ignore: ["*.log", "dist/**"] });
    expect(Object.keys(filtered.files ?? {})).toEqual(["node_modules/x/index.js", "src/a.ts"]);
  });

  it("rolls back only a snapshot that kept its contents; otherwise capability_not_supported", async () => {
    const dir = workspaceDir("hash-rollback");
    writeFiles(dir, { "a.txt": "a", "b/c.txt": "c", "run.sh": "echo" });
    chmodSync(join(dir, "run.sh"), 0o755);
    symlinkSync("a.txt", join(dir, "link"));
    const workspace = new Workspace();
    const bare = await workspace.snapshot(dir);
    expect(bare.hasContents).toBe(false);
    const kept = await workspace.snapshot(dir, { keepContents: true });
    expect(kept.hasContents).toBe(true);

    writeFiles(dir, { "a.txt": "changed", "new/file.txt": "n" });
    rmSync(join(dir, "b"), { recursive: true });
    writeFileSync(join(dir, "b"), "a file where a folder was");
    chmodSync(join(dir, "run.sh"), 0o644);
    unlinkSync(join(dir, "link"));

    const refused = await rejection(workspace.rollback(bare));
    expect(refused).toMatchObject({ code: "capability_not_supported", details: { snapshotId: bare.id } });
    const report = await workspace.rollback(kept);
    expect(report).toMatchObject({ restored: 4, removed: 2 });
    expect(readFileSync(join(dir, "a.txt"), "utf8")).toBe("a");
    expect(readFileSync(join(dir, "b/c.txt"), "utf8")).toBe("c");
    expect(statSync(join(dir, "run.sh")).mode & 0o777).toBe(0o755);
    expect(lstatSync(join(dir, "link")).isSymbolicLink()).toBe(true);
    expect(existsSync(join(dir, "new/file.txt"))).toBe(false);
    expect((await workspace.snapshot(dir)).ref).toBe(kept.ref);
  });

  it("reuses hashes of unchanged old files, yet sees a same-size rewrite with its mtime put back", async () => {
    const dir = workspaceDir("hash-cache");
    writeFiles(dir, { "a.txt": "aaaa", "b.txt": "bbbb" });
    const old = new Date(Date.now() - 60_000);
    utimesSync(join(dir, "a.txt"), old, old);
    utimesSync(join(dir, "b.txt"), old, old);
    const workspace = new Workspace();
    const before = await workspace.snapshot(dir);
    writeFileSync(join(dir, "a.txt"), "AAAA");
    utimesSync(join(dir, "a.txt"), old, old); // same size, same mtime: only ctime tells
    const after = await workspace.snapshot(dir);
    expect((await workspace.diff(before, after)).modified).toEqual(["a.txt"]);
    expect(after.files?.["b.txt"]?.sha256).toBe(before.files?.["b.txt"]?.sha256);
  });

  it("a hash rollback leaves alone what the snapshot ignored", async () => {
    const dir = workspaceDir("hash-rollback-ignore");
    writeFiles(dir, { "a.txt": "a" });
    const workspace = new Workspace();
    const snapshot = await workspace.snapshot(dir, { keepContents: true, ignore: ["*.log", "node_modules"] });
    writeFiles(dir, { "run.log": "log", "node_modules/x/index.js": "x", "b.txt": "b" });
    expect(await workspace.rollback(snapshot)).toMatchObject({ removed: 1 });
    expect(existsSync(join(dir, "b.txt"))).toBe(false);
    expect(readFileSync(join(dir, "run.log"), "utf8")).toBe("log");
    expect(readFileSync(join(dir, "node_modules/x/index.js"), "utf8")).toBe("x");
  });

  it("keeps no contents over the keepContents cap", async () => {
    const dir = workspaceDir("hash-cap");
    writeFiles(dir, { "a.txt": "x".repeat(600), "b.txt": "y".repeat(600) });
    const snapshot = await new Workspace().snapshot(dir, { keepContents: { maxBytes: 1000 } });
    expect(snapshot.hasContents).toBe(false);
    expect((await rejection(new Workspace().rollback(snapshot))).code).toBe("capability_not_supported");
  });
});

describe("Workspace: bad input", () => {
  it("a path that does not exist is not_found; a file is validation_error", async () => {
    const dir = workspaceDir("bad-path");
    writeFiles(dir, { "file.txt": "x" });
    const workspace = new Workspace();
    expect(await rejection(workspace.snapshot(join(dir, "missing")))).toMatchObject({
      code: "not_found",
      details: { path: join(dir, "missing") },
    });
    expect((await rejection(workspace.snapshot(join(dir, "file.txt")))).code).toBe("validation_error");
    expect((await rejection(workspace.snapshot(""))).code).toBe("validation_error");
    expect((await rejection(workspace.snapshot(dir, { strategy: "svn" as unknown as "git" }))).code).toBe(
      "validation_error",
    );
  });

  it("diffs only snapshots of the same path and backend; rolls back only onto the snapshot's path", async () => {
    const one = workspaceDir("one");
    const two = workspaceDir("two");
    const workspace = new Workspace();
    const a = await workspace.snapshot(one);
    const b = await workspace.snapshot(two);
    expect((await rejection(workspace.diff(a, b))).code).toBe("validation_error");
    const wrongPath = await rejection(workspace.rollback(a, { path: two }));
    expect(wrongPath).toMatchObject({ code: "validation_error", details: { snapshotPath: a.path } });
    rmSync(one, { recursive: true });
    expect((await rejection(workspace.rollback(a))).code).toBe("not_found");
  });

  it("symlinks pointing outside are recorded by target, never followed (hash)", async () => {
    const dir = workspaceDir("links");
    const outside = workspaceDir("outside");
    writeFiles(outside, { "secret.txt": "secret", "deep/more.txt": "more" });
    symlinkSync(outside, join(dir, "out-dir"));
    symlinkSync(join(outside, "secret.txt"), join(dir, "out-file"));
    symlinkSync(join(dir, "loop"), join(dir, "loop"));
    const snapshot = await new Workspace().snapshot(dir);
    expect(snapshot.files).toEqual({
      loop: expect.objectContaining({ kind: "symlink" }),
      "out-dir": expect.objectContaining({ kind: "symlink", size: Buffer.byteLength(outside) }),
      "out-file": expect.objectContaining({ kind: "symlink" }),
    });
  });

  it("huge and binary files: hashed by streaming (hash), counted as binary and summarised (git)", async () => {
    const dir = workspaceDir("huge");
    await gitRepo(dir, { "small.txt": "s\n" });
    const workspace = new Workspace();
    const beforeGit = await workspace.snapshot(dir);
    const beforeHash = await workspace.snapshot(dir, { strategy: "hash" });
    const huge = Buffer.alloc(24 * 1024 * 1024, 7);
    huge[0] = 0; // a NUL byte: binary to git
    writeFileSync(join(dir, "huge.bin"), huge);
    const afterGit = await workspace.snapshot(dir);
    const afterHash = await workspace.snapshot(dir, { strategy: "hash" });
    const gitDiff = await workspace.diff(beforeGit, afterGit, { capturePatch: true });
    expect(gitDiff).toMatchObject({ added: ["huge.bin"], binary: ["huge.bin"], insertions: 0 });
    expect(gitDiff.patch).toContain("Binary files /dev/null and b/huge.bin differ");
    expect(gitDiff.patchBytes).toBeLessThan(200);
    const hashDiff = await workspace.diff(beforeHash, afterHash);
    expect(hashDiff.added).toEqual(["huge.bin"]);
    expect(afterHash.files?.["huge.bin"]?.size).toBe(huge.length);
  });

  it("a patch over the cap goes to the artifact store, or is dropped without one — never cut", async () => {
    const dir = workspaceDir("patch-cap");
    const storeDir = workspaceDir("artifacts");
    await gitRepo(dir, { "a.txt": "a\n" });
    const store = new FileArtifactStore({ root: storeDir });
    cleanups.push(() => void store.close?.());
    const withStore = new Workspace({ artifactStore: store });
    const before = await withStore.snapshot(dir);
    writeFiles(dir, { "big.txt": Array.from({ length: 2000 }, (_, n) => `line ${n}\n`).join("") });
    const after = await withStore.snapshot(dir);

    const inline = await withStore.diff(before, after, { capturePatch: true });
    expect(inline.patch).toContain("+line 1999\n");
    const stored = await withStore.diff(before, after, { capturePatch: true, maxPatchBytes: 1000 });
    expect(stored.patch).toBeUndefined();
    expect(stored.patchRef).toMatch(/^workspace\/patches\/.+\.patch$/);
    expect(stored.patchBytes).toBe(Buffer.byteLength(inline.patch ?? ""));
    expect(Buffer.from(await store.get(stored.patchRef ?? "")).toString("utf8")).toBe(inline.patch);

    const dropped = await new Workspace().diff(before, after, { capturePatch: true, maxPatchBytes: 1000 });
    expect(dropped).toMatchObject({ patchTruncated: true, filesChanged: 1, insertions: 2000 });
    expect(dropped.patch).toBeUndefined();
    expect(dropped.patchRef).toBeUndefined();
  });

  it("files changing during a snapshot: each is recorded as one whole version (atomic writes), the user's state untouched", async () => {
    const dir = workspaceDir("racing");
    const scratch = workspaceDir("scratch");
    await gitRepo(dir, Object.fromEntries(Array.from({ length: 200 }, (_, n) => [`f${n}.txt`, "v0\n"])));
    const state = await userGitState(dir);
    const workspace = new Workspace();
    let writing = true;
    let version = 0;
    // An editor-like writer: whole files replaced by rename, files created and deleted.
    const writer = (async () => {
      // Bounded, so a snapshot's retries (see addAll) always outlast it on a loaded machine.
      while (writing && version < 100) {
        version += 1;
        const tmp = join(scratch, "tmp");
        writeFileSync(tmp, `v${version}\n`);
        renameSync(tmp, join(dir, `f${version % 200}.txt`));
        writeFileSync(join(dir, `churn${version % 5}.txt`), "c\n");
        rmSync(join(dir, `churn${(version + 2) % 5}.txt`), { force: true });
        await new Promise((resolve) => setTimeout(resolve, 2));
      }
    })();
    let gitSnapshot: Awaited<ReturnType<Workspace["snapshot"]>>;
    let hashSnapshot: typeof gitSnapshot;
    try {
      gitSnapshot = await workspace.snapshot(dir);
      hashSnapshot = await workspace.snapshot(dir, { strategy: "hash" });
    } finally {
      writing = false;
      await writer;
    }
    expect(version).toBeGreaterThan(0);
    for (let n = 0; n < 200; n += 37) {
      expect(await git(dir, "show", `${gitSnapshot.ref}:f${n}.txt`)).toMatch(/^v\d+\n$/);
    }
    for (const [path, file] of Object.entries(hashSnapshot.files ?? {})) {
      expect(file.size, path).toBeGreaterThan(0);
    }
    const { status, ...rest } = await userGitState(dir);
    const { status: _status, ...restBefore } = state;
    expect(rest).toEqual(restBefore);
  });
});

import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import { asm, requireBuiltCli } from "../cli/test-support/cli.js";
import { gitRepo, tempWorkspace, userGitState } from "./test-support/git-fixtures.js";

const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const cleanup of cleanups.splice(0)) cleanup();
});

function workspaceDir(prefix: string): string {
  const { dir, remove } = tempWorkspace(prefix);
  cleanups.push(remove);
  return dir;
}

beforeAll(requireBuiltCli);

describe("asm run --workspace", () => {
  it("prints the diff summary of the run's directory", async () => {
    const dir = workspaceDir("cli");
    await gitRepo(dir, { "a.txt": "a\n" });
    const db = join(workspaceDir("cli-db"), "asm.db");
    const outcome = await asm([
      "run",
      "--provider",
      "shell",
      "--db",
      db,
      "--workspace",
      "--cwd",
      dir,
      "--",
      "sh",
      "-c",
      "echo b >> a.txt; echo new > n.txt",
    ]);
    expect(outcome.code).toBe(0);
    expect(outcome.stdout).toMatch(/^workspace \(git\): 2 files changed, \+2 -0: a\.txt, n\.txt$/m);
  });

  it("--rollback-on-failure puts the directory back after a failed run, the user's git state untouched", async () => {
    const dir = workspaceDir("cli-rollback");
    await gitRepo(dir, { "a.txt": "a\n" });
    const state = await userGitState(dir);
    const db = join(workspaceDir("cli-db"), "asm.db");
    const outcome = await asm([
      "run",
      "--provider",
      "shell",
      "--db",
      db,
      "--workspace",
      "--rollback-on-failure",
      "--cwd",
      dir,
      "--",
      "sh",
      "-c",
      "echo c >> a.txt; echo z > z.txt; exit 3",
    ]);
    expect(outcome.code).toBe(3);
    expect(outcome.stdout).toMatch(/^workspace rolled back: \d+ files restored, 1 created files removed$/m);
    expect(readFileSync(join(dir, "a.txt"), "utf8")).toBe("a\n");
    expect(existsSync(join(dir, "z.txt"))).toBe(false);
    expect(await userGitState(dir)).toEqual(state);
  });

  it("--rollback-on-failure without --workspace is a usage error", async () => {
    const db = join(workspaceDir("cli-db"), "asm.db");
    const outcome = await asm([
      "run",
      "--provider",
      "shell",
      "--db",
      db,
      "--rollback-on-failure",
      "--",
      "true",
    ]);
    expect(outcome.code).toBe(2);
    expect(outcome.stderr).toContain("--rollback-on-failure needs --workspace");
  });
});

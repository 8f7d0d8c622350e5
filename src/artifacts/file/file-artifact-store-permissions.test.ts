import { chmod, lstat, readdir, rm } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { FileArtifactStore } from "./index.js";
import { scratch } from "./test-support/scratch.js";
import { artifactPaths } from "./test-support/tree-paths.js";

const dirs = scratch("asm-file-permissions");
afterAll(() => dirs.cleanup());

/** Permission bits of every entry under `dir`, by path relative to it ("." for `dir` itself). */
async function modesUnder(dir: string): Promise<Record<string, string>> {
  const modes: Record<string, string> = { ".": await modeOf(dir) };
  for (const entry of await readdir(dir, { recursive: true, withFileTypes: true })) {
    const path = join(entry.parentPath, entry.name);
    modes[path.slice(dir.length + 1)] = await modeOf(path);
  }
  return modes;
}

async function modeOf(path: string): Promise<string> {
  const stats = await lstat(path);
  return `${stats.isDirectory() ? "d" : "-"}${(stats.mode & 0o7777).toString(8).padStart(4, "0")}`;
}

/** Runs `body` with the process umask set to `mask`, then puts the old one back. */
async function withUmask<T>(mask: number, body: () => Promise<T>): Promise<T> {
  const previous = process.umask(mask);
  try {
    return await body();
  } finally {
    process.umask(previous);
  }
}

describe("FileArtifactStore permissions: owner-only whatever the umask", () => {
  for (const mask of [0o022, 0o000]) {
    it(`umask ${mask.toString(8).padStart(4, "0")}: folders 0700, bodies and sidecars 0600`, async () => {
      const root = join(await dirs.fresh("umask"), "parent", "root");
      const modes = await withUmask(mask, async () => {
        const store = new FileArtifactStore({ root });
        await store.put("runs/r1/patch.diff", "+line\n", { contentType: "text/x-diff" });
        await store.put("other", "x");
        await store.put("other", "replaced");
        // A sidecar rebuilt by head is created the same way.
        await rm(artifactPaths(root, "other").sidecar);
        expect(await store.head("other")).not.toBeNull();
        await store.close();
        return modesUnder(join(root, ".."));
      });
      const expected: Record<string, string> = {
        ".": "d0700",
        root: "d0700",
        "root/data": "d0700",
        "root/tmp": "d0700",
      };
      for (const key of ["runs/r1/patch.diff", "other"]) {
        const paths = artifactPaths("root", key);
        expected[`root/${paths.relative.outer}`] = "d0700";
        expected[`root/${paths.relative.folder}`] = "d0700";
        expected[`root/${paths.relative.body}`] = "-0600";
        expected[`root/${paths.relative.sidecar}`] = "-0600";
      }
      expect(modes).toEqual(expected);
    });
  }

  it("sets a folder of its tree that was opened up back to 0700, and leaves an existing root as it is", async () => {
    const root = await dirs.fresh("loosened");
    await chmod(root, 0o755);
    const store = new FileArtifactStore({ root });
    await store.put("k", "v");
    const paths = artifactPaths(root, "k");
    await chmod(paths.folder, 0o777);
    await chmod(join(root, "data"), 0o755);
    await store.close();

    const reopened = new FileArtifactStore({ root });
    await reopened.put("k", "again");
    expect(await modeOf(paths.folder)).toBe("d0700");
    expect(await modeOf(join(root, "data"))).toBe("d0700");
    expect(await modeOf(root)).toBe("d0755");
    await reopened.close();
  });
});

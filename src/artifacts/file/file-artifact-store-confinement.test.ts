import { spawnSync } from "node:child_process";
import { chown, mkdir, readdir, readFile, rename, rm, symlink, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { rejection, sha256 } from "../test-support/assertions.js";
import type { Confinement } from "./directory-handle.js";
import { FileArtifactStore } from "./index.js";
import { raceAgainstFlipper } from "./test-support/flipper-race.js";
import { filesUnder, scratch } from "./test-support/scratch.js";
import { artifactPaths } from "./test-support/tree-paths.js";

const dirs = scratch("asm-file-confinement");
afterAll(() => dirs.cleanup());

/** Every file under `dir` with its contents, to show that nothing outside the root changed. */
async function contentsOf(dir: string): Promise<Record<string, string>> {
  const files: Record<string, string> = {};
  for (const name of await filesUnder(dir)) files[name] = await readFile(join(dir, name), "utf8");
  return files;
}

/** A root with one stored artifact, and an empty folder outside it. */
async function storeWithArtifact(name: string, confinement: Confinement) {
  const dir = await dirs.fresh(name);
  const root = join(dir, "root");
  const outside = join(dir, "outside");
  await mkdir(outside);
  const store = new FileArtifactStore({ root, confinement });
  await store.put("victim", "inside", { contentType: "text/plain" });
  return { dir, root, outside, store, paths: artifactPaths(root, "victim") };
}

/** Every method of the store on `key`, each expected to be refused. */
function everyMethod(store: FileArtifactStore, key: string) {
  return {
    put: () => store.put(key, "escaped"),
    get: () => store.get(key),
    getStream: () => store.getStream(key),
    head: () => store.head(key),
    delete: () => store.delete(key),
  };
}

for (const confinement of ["descriptor", "path"] as const) {
  describe(`FileArtifactStore confinement (${confinement}): a tampered tree is storage_corrupt`, () => {
    for (const level of ["outer", "folder"] as const) {
      it(`refuses a symlink in place of the ${level} fan-out folder, for every method, and touches nothing outside`, async () => {
        const { outside, store, paths } = await storeWithArtifact(`link-${level}`, confinement);
        // The outside folder holds what an escaped get would read there.
        const mirror = level === "outer" ? join(outside, paths.folderNames[1]) : outside;
        await mkdir(mirror, { recursive: true });
        await writeFile(join(mirror, sha256("victim")), "OUTSIDE secret");
        const before = await contentsOf(outside);
        await rm(paths[level], { recursive: true });
        await symlink(outside, paths[level]);

        for (const [method, attempt] of Object.entries(everyMethod(store, "victim"))) {
          const error = await rejection(attempt());
          expect(error.code, method).toBe("storage_corrupt");
          expect(error.details, method).toMatchObject({
            key: "victim",
            path: paths[level],
            reason: "symlink",
          });
        }
        expect(await contentsOf(outside)).toEqual(before);
        await store.close();
      });
    }

    it("refuses a symlink at the body's name to read; put replaces the link and delete removes it, never its target", async () => {
      const { dir, store, paths } = await storeWithArtifact("leaf-link", confinement);
      const secret = join(dir, "secret.txt");
      await writeFile(secret, "do not read");
      await rm(paths.body);
      await symlink(secret, paths.body);

      for (const attempt of [
        () => store.get("victim"),
        () => store.getStream("victim"),
        () => store.head("victim"),
      ]) {
        const error = await rejection(attempt());
        expect(error.code).toBe("storage_corrupt");
        expect(error.details).toMatchObject({ path: paths.body, reason: "symlink" });
      }
      await store.put("victim", "replaced");
      expect(Buffer.from(await store.get("victim")).toString()).toBe("replaced");
      expect(await readFile(secret, "utf8")).toBe("do not read");

      await rm(paths.body);
      await symlink(secret, paths.body);
      await store.delete("victim");
      expect(await readFile(secret, "utf8")).toBe("do not read");
      expect(await store.head("victim")).toBeNull();
      await store.close();
    });

    it("refuses a FIFO or a folder where a body belongs, without blocking on the FIFO", async () => {
      const { store, paths } = await storeWithArtifact("special", confinement);
      await rm(paths.body);
      expect(spawnSync("mkfifo", [paths.body]).status).toBe(0);
      for (const attempt of [() => store.get("victim"), () => store.head("victim")]) {
        const error = await rejection(attempt());
        expect(error.code).toBe("storage_corrupt");
        expect(error.details).toMatchObject({ path: paths.body, reason: "not_a_regular_file" });
      }
      await rm(paths.body);
      await mkdir(paths.body);
      for (const attempt of Object.values(everyMethod(store, "victim"))) {
        const error = await rejection(attempt());
        expect(error.code).toBe("storage_corrupt");
        expect(error.details).toMatchObject({ path: paths.body, reason: "not_a_regular_file" });
      }
      await store.close();
    });

    it("refuses a file where a fan-out folder belongs", async () => {
      const { store, paths } = await storeWithArtifact("file-for-folder", confinement);
      await rm(paths.folder, { recursive: true });
      await writeFile(paths.folder, "not a folder");
      for (const attempt of Object.values(everyMethod(store, "victim"))) {
        const error = await rejection(attempt());
        expect(error.code).toBe("storage_corrupt");
        expect(error.details).toMatchObject({ path: paths.folder, reason: "not_a_directory" });
      }
      await store.close();
    });

    for (const tree of ["data", "tmp"]) {
      it(`refuses a ${tree}/ folder that is a link out of the root, and writes nothing there`, async () => {
        const dir = await dirs.fresh(`tree-link-${tree}`);
        const root = join(dir, "root");
        await mkdir(join(dir, "elsewhere"));
        await mkdir(root);
        await symlink(join(dir, "elsewhere"), join(root, tree));
        const store = new FileArtifactStore({ root, confinement });
        const error = await rejection(store.put("k", "v"));
        expect(error.code).toBe("storage_corrupt");
        expect(error.details).toMatchObject({ path: join(root, tree), reason: "symlink" });
        expect(await readdir(join(dir, "elsewhere"))).toEqual([]);
        await store.close();
      });
    }

    it("works through a root that is a symlink (the root is the caller's choice)", async () => {
      const dir = await dirs.fresh("root-link");
      await mkdir(join(dir, "real"));
      await symlink(join(dir, "real"), join(dir, "link"));
      const store = new FileArtifactStore({ root: join(dir, "link"), confinement });
      await store.put("k/v", "through the link");
      expect(await readFile(artifactPaths(join(dir, "real"), "k/v").body, "utf8")).toBe("through the link");
      await store.close();
    });

    it.runIf(process.getuid?.() === 0)(
      "refuses a fan-out folder owned by another user (needs root to chown)",
      async () => {
        const { store, paths } = await storeWithArtifact("foreign", confinement);
        await chown(paths.folder, 65534, 65534);
        for (const attempt of Object.values(everyMethod(store, "victim"))) {
          const error = await rejection(attempt());
          expect(error.code).toBe("storage_corrupt");
          expect(error.details).toMatchObject({ path: paths.folder, reason: "foreign_owner" });
        }
        await store.close();
      },
    );
  });
}

describe("FileArtifactStore path confinement", () => {
  it("refuses a data/ swapped for a link after the store opened it", async () => {
    const dir = await dirs.fresh("swapped-data-path");
    const root = join(dir, "root");
    const outside = join(dir, "outside");
    await mkdir(outside);
    const store = new FileArtifactStore({ root, confinement: "path" });
    await store.put("before", "one");
    await rename(join(root, "data"), join(root, "data.moved"));
    await symlink(outside, join(root, "data"));

    for (const attempt of Object.values(everyMethod(store, "before"))) {
      const error = await rejection(attempt());
      expect(error.code).toBe("storage_corrupt");
      expect(error.details).toMatchObject({ path: join(root, "data"), reason: "symlink" });
    }
    expect(await readdir(outside)).toEqual([]);
    await store.close();
  });
});

describe("FileArtifactStore descriptor confinement (the default on Linux)", () => {
  it("keeps using its own data/ when it is swapped for a link after the store opened it", async () => {
    const dir = await dirs.fresh("swapped-data");
    const root = join(dir, "root");
    const outside = join(dir, "outside");
    await mkdir(outside);
    const store = new FileArtifactStore({ root });
    await store.put("before", "one");
    await rename(join(root, "data"), join(root, "data.moved"));
    await symlink(outside, join(root, "data"));

    await store.put("after", "two");
    expect(Buffer.from(await store.get("before")).toString()).toBe("one");
    expect(Buffer.from(await store.get("after")).toString()).toBe("two");
    expect(await readdir(outside)).toEqual([]);
    const moved = join(root, artifactPaths(root, "after").relative.body.replace(/^data/, "data.moved"));
    expect(await readFile(moved, "utf8")).toBe("two");
    await store.close();
  });

  it("cannot be raced out of its root: a flipper swapping its folders for links gets 0 escapes", async () => {
    const dir = await dirs.fresh("race");
    const root = join(dir, "root");
    // fsync has nothing to do with confinement, and would only slow the race down.
    const store = new FileArtifactStore({ root, confinement: "descriptor", durable: false });
    const keys = ["race/k0", "race/k1", "race/k2", "race/k3"];
    const flips: { dir: string; target: string }[] = [];
    const outside: string[] = [];
    for (const [index, key] of keys.entries()) {
      await store.put(key, `INSIDE ${key} seed`);
      const paths = artifactPaths(root, key);
      // What the store would find through each link: a body under the same names, outside.
      const outer = join(dir, `outside-outer-${index}`);
      const folder = join(dir, `outside-folder-${index}`);
      await mkdir(join(outer, paths.folderNames[1]), { recursive: true });
      await writeFile(join(outer, paths.folderNames[1], sha256(key)), `OUTSIDE outer ${key}`);
      await mkdir(folder);
      await writeFile(join(folder, sha256(key)), `OUTSIDE folder ${key}`);
      flips.push({ dir: paths.outer, target: outer }, { dir: paths.folder, target: folder });
      outside.push(outer, folder);
    }
    // Distinct outer folders, or two flips would fight over one folder.
    expect(new Set(flips.map((flip) => flip.dir)).size).toBe(flips.length);
    const outsideTemp = join(dir, "outside-tmp");
    await mkdir(outsideTemp);
    flips.push({ dir: join(root, "tmp"), target: outsideTemp });
    outside.push(outsideTemp);

    const figures = await raceAgainstFlipper({ store, keys, flips, outside, rounds: 150, workDir: dir });
    console.log(`file artifact store race (descriptor confinement): ${JSON.stringify(figures)}`);

    expect(figures.flipper.linkedSwaps).toBeGreaterThan(0);
    expect(figures.escapes).toEqual({ put: 0, get: 0, head: 0, delete: 0 });
    expect(figures.foreign).toBe(0);
    expect(figures.crashes).toEqual([]);
    // Refusals are typed: a link met (storage_corrupt), a folder moved away (not_found), or the
    // folder the store just made removed by the flipper's restore (storage_error, ENOENT).
    expect(
      Object.keys(figures.errors).filter(
        (code) => !["storage_corrupt", "not_found", "storage_error"].includes(code),
      ),
    ).toEqual([]);
    expect(figures.operations).toEqual({ put: 150, get: 300, head: 150, delete: 150 });

    // With the flipper gone the store works as before on every key.
    for (const key of keys) {
      await store.put(key, `after ${key}`);
      expect(Buffer.from(await store.get(key)).toString()).toBe(`after ${key}`);
    }
    await store.close();
  });
});

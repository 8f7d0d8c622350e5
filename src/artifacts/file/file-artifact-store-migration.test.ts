import { link, lstat, mkdir, readdir, readFile, rename, stat, symlink, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { sha256 } from "../test-support/assertions.js";
import { FileArtifactStore } from "./index.js";
import { encodeSidecar, stampOf } from "./sidecar.js";
import { type LegacyArtifact, writeLegacyArtifact } from "./test-support/legacy-tree.js";
import { filesUnder, scratch } from "./test-support/scratch.js";
import { artifactPaths } from "./test-support/tree-paths.js";

const dirs = scratch("asm-file-migration");
afterAll(() => dirs.cleanup());

const ARTIFACTS: readonly LegacyArtifact[] = [
  { key: "runs/r1/patch.diff", body: "+line\n", contentType: "text/x-diff" },
  { key: "notes/untyped.txt", body: "no sidecar", sidecar: "none" },
  { key: "stale.txt", body: "edited after its sidecar", contentType: "text/plain", sidecar: "stale" },
  { key: "deep/a/b/c/d.bin", body: "deep", contentType: "application/x-deep" },
];

function expectedInfo(artifact: LegacyArtifact) {
  return {
    key: artifact.key,
    size: Buffer.byteLength(artifact.body),
    sha256: sha256(artifact.body),
    contentType: artifact.contentType ?? "application/octet-stream",
  };
}

/** The files of the current layout that `keys` occupy, relative to the root. */
function currentFiles(keys: readonly string[]): string[] {
  return keys
    .flatMap((key) => {
      const { relative } = artifactPaths("", key);
      return [relative.body, relative.sidecar];
    })
    .sort();
}

describe("FileArtifactStore migration from the first layout (objects/<key>, meta/<key>)", () => {
  it("moves every artifact into the current layout when it opens the root, keeping content types", async () => {
    const root = await dirs.fresh("migrate");
    for (const artifact of ARTIFACTS) await writeLegacyArtifact(root, artifact);
    // What that layout also left behind: a crashed put's temporary file and an orphaned sidecar.
    await writeFile(join(root, "objects/runs/r1/.patch.diff.0123456789ab.tmp"), "half a body");
    await writeLegacyArtifact(root, { key: "gone.txt", body: "deleted" });
    await rename(join(root, "objects/gone.txt"), join(root, "gone-body"));

    const store = new FileArtifactStore({ root });
    for (const artifact of ARTIFACTS) {
      expect(await store.head(artifact.key), artifact.key).toEqual(expectedInfo(artifact));
      expect(Buffer.from(await store.get(artifact.key)).toString()).toBe(artifact.body);
    }
    expect(await store.head("gone.txt")).toBeNull();
    await store.close();

    expect(await filesUnder(root)).toEqual(
      [...currentFiles(ARTIFACTS.map(({ key }) => key)), "gone-body"].sort(),
    );
    for (const artifact of ARTIFACTS) {
      const paths = artifactPaths(root, artifact.key);
      expect((await lstat(paths.body)).mode & 0o777).toBe(0o600);
      expect(JSON.parse(await readFile(paths.sidecar, "utf8"))).toMatchObject({
        version: 2,
        ...expectedInfo(artifact),
      });
    }
  });

  it("leaves links and files that are not valid keys where they are, and works around them", async () => {
    const dir = await dirs.fresh("leftovers");
    const root = join(dir, "root");
    await writeLegacyArtifact(root, ARTIFACTS[0] as LegacyArtifact);
    await writeFile(join(dir, "secret.txt"), "outside");
    await symlink(join(dir, "secret.txt"), join(root, "objects/link"));
    await writeFile(join(root, "objects/back\\slash"), "put there by hand");

    const store = new FileArtifactStore({ root });
    expect(await store.head("link")).toBeNull();
    expect(await store.head(ARTIFACTS[0]?.key ?? "")).toEqual(expectedInfo(ARTIFACTS[0] as LegacyArtifact));
    await store.put("new", "works");
    expect(Buffer.from(await store.get("new")).toString()).toBe("works");
    await store.close();

    expect((await readdir(join(root, "objects"))).sort()).toEqual(["back\\slash", "link"]);
    expect(await readFile(join(dir, "secret.txt"), "utf8")).toBe("outside");
  });

  it("finishes a migration that was interrupted at any step", async () => {
    const root = await dirs.fresh("resume");
    for (const artifact of ARTIFACTS) await writeLegacyArtifact(root, artifact);
    const [sidecarWritten, linked, oldNameRemoved] = ARTIFACTS as [
      LegacyArtifact,
      LegacyArtifact,
      LegacyArtifact,
    ];
    // Stopped after writing the new sidecar, before linking the body in.
    const first = artifactPaths(root, sidecarWritten.key);
    const firstStats = await stat(join(root, "objects", sidecarWritten.key), { bigint: true });
    await mkdir(first.folder, { recursive: true });
    await writeFile(first.sidecar, encodeSidecar(expectedInfo(sidecarWritten), stampOf(firstStats)));
    // Stopped after linking the body in, before removing its old name (it had no sidecar).
    const second = artifactPaths(root, linked.key);
    await mkdir(second.folder, { recursive: true });
    await link(join(root, "objects", linked.key), second.body);
    // Stopped after removing the old name, before removing the old sidecar.
    const third = artifactPaths(root, oldNameRemoved.key);
    const thirdStats = await stat(join(root, "objects", oldNameRemoved.key), { bigint: true });
    await mkdir(third.folder, { recursive: true });
    await writeFile(third.sidecar, encodeSidecar(expectedInfo(oldNameRemoved), stampOf(thirdStats)));
    await rename(join(root, "objects", oldNameRemoved.key), third.body);

    const store = new FileArtifactStore({ root });
    for (const artifact of ARTIFACTS) {
      expect(await store.head(artifact.key), artifact.key).toEqual(expectedInfo(artifact));
    }
    await store.close();
    // The body without an old sidecar gets its new one when head first asks.
    expect(await filesUnder(root)).toEqual(currentFiles(ARTIFACTS.map(({ key }) => key)));
  });

  it("keeps a body the current layout already holds, and leaves the old one where it is", async () => {
    const root = await dirs.fresh("newer");
    const store = new FileArtifactStore({ root });
    await store.put("report.md", "newer", { contentType: "text/markdown" });
    await store.close();
    await writeLegacyArtifact(root, { key: "report.md", body: "older" });

    const reopened = new FileArtifactStore({ root });
    expect(Buffer.from(await reopened.get("report.md")).toString()).toBe("newer");
    expect((await reopened.head("report.md"))?.contentType).toBe("text/markdown");
    await reopened.close();
    expect(await readFile(join(root, "objects/report.md"), "utf8")).toBe("older");
  });

  it("two stores opening one old root at once both see every artifact, once", async () => {
    const root = await dirs.fresh("concurrent");
    const artifacts = Array.from({ length: 40 }, (_, index) => ({
      key: `batch/${index % 4}/item-${index}.txt`,
      body: `body ${index}`,
      contentType: index % 2 === 0 ? "text/plain" : "application/x-odd",
      sidecar: index % 3 === 0 ? ("stale" as const) : ("valid" as const),
    }));
    for (const artifact of artifacts) await writeLegacyArtifact(root, artifact);

    const stores = [new FileArtifactStore({ root }), new FileArtifactStore({ root })];
    const heads = await Promise.all(
      stores.map((store) => Promise.all(artifacts.map((artifact) => store.head(artifact.key)))),
    );
    for (const seen of heads) expect(seen).toEqual(artifacts.map(expectedInfo));
    await Promise.all(stores.map((store) => store.close()));
    expect(await filesUnder(root)).toEqual(currentFiles(artifacts.map(({ key }) => key)));
  });
});

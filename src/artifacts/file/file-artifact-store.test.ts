import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { mkdir, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { AsmError } from "../../core/errors.js";
import { defineArtifactStoreConformance } from "../../testing/index.js";
import { rejection, sha256 } from "../test-support/assertions.js";
import type { Confinement } from "./directory-handle.js";
import { FileArtifactStore } from "./index.js";
import { filesUnder, scratch } from "./test-support/scratch.js";
import { artifactPaths } from "./test-support/tree-paths.js";

const tsxLoader = pathToFileURL(createRequire(import.meta.url).resolve("tsx")).href;
const stalledPutWorker = fileURLToPath(new URL("./test-support/stalled-put-worker.ts", import.meta.url));

const dirs = scratch("asm-file-artifacts");
afterAll(() => dirs.cleanup());

for (const confinement of ["descriptor", "path"] as const satisfies readonly Confinement[]) {
  defineArtifactStoreConformance(
    {
      name: `FileArtifactStore (${confinement} confinement)`,
      open: async () =>
        new FileArtifactStore({ root: join(await dirs.fresh("conformance"), "root"), confinement }),
    },
    { describe, it },
  );
}

describe("FileArtifactStore layout", () => {
  it("stores the body byte for byte at data/<h>/<h>/<sha256 of the key>, with a sidecar naming the key", async () => {
    const root = await dirs.fresh("layout");
    const store = new FileArtifactStore({ root });
    await store.put("runs/r1/patch.diff", "+line\n", { contentType: "text/x-diff" });

    const paths = artifactPaths(root, "runs/r1/patch.diff");
    expect(paths.relative.body).toBe(join("data", "96", "78", sha256("runs/r1/patch.diff")));
    expect(await readFile(paths.body, "utf8")).toBe("+line\n");
    expect(JSON.parse(await readFile(paths.sidecar, "utf8"))).toMatchObject({
      version: 2,
      key: "runs/r1/patch.diff",
      size: 6,
      sha256: sha256("+line\n"),
      contentType: "text/x-diff",
    });
    expect(await filesUnder(root)).toEqual([paths.relative.body, paths.relative.sidecar]);
    await store.close();
  });

  it("stores a key and keys below it side by side, which the first layout could not", async () => {
    const store = new FileArtifactStore({ root: await dirs.fresh("nested") });
    await store.put("a", "file");
    await store.put("a/b", "below");
    await store.put("a/b/c", "further below");
    expect(Buffer.from(await store.get("a")).toString()).toBe("file");
    expect(Buffer.from(await store.get("a/b")).toString()).toBe("below");
    await store.delete("a/b");
    expect(await store.head("a/b")).toBeNull();
    expect(Buffer.from(await store.get("a/b/c")).toString()).toBe("further below");
    await store.close();
  });

  it("getStream streams the body", async () => {
    const store = new FileArtifactStore({ root: await dirs.fresh("stream") });
    const body = new Uint8Array(3 * 1024 * 1024).map((_, index) => (index * 7) % 256);
    await store.put("big.bin", body);
    const chunks: Buffer[] = [];
    for await (const chunk of await store.getStream("big.bin")) chunks.push(chunk as Buffer);
    expect(sha256(Buffer.concat(chunks))).toBe(sha256(body));
    await expect(store.getStream("absent")).rejects.toMatchObject({ code: "not_found" });
    await store.close();
  });
});

describe("FileArtifactStore sidecar", () => {
  it("re-hashes a body edited behind the store's back, even at the same size", async () => {
    const root = await dirs.fresh("edited");
    const store = new FileArtifactStore({ root });
    await store.put("doc.txt", "aaaa", { contentType: "text/plain" });
    const paths = artifactPaths(root, "doc.txt");
    await writeFile(paths.body, "bbbb");
    expect(await store.head("doc.txt")).toEqual({
      key: "doc.txt",
      size: 4,
      sha256: sha256("bbbb"),
      contentType: "text/plain",
    });
    // The repaired sidecar is trusted from now on.
    expect(JSON.parse(await readFile(paths.sidecar, "utf8")).sha256).toBe(sha256("bbbb"));
    await store.close();
  });

  it("rebuilds a missing or corrupt sidecar from the body", async () => {
    const root = await dirs.fresh("rebuild");
    const store = new FileArtifactStore({ root });
    await store.put("a.bin", "payload", { contentType: "application/x-a" });
    const paths = artifactPaths(root, "a.bin");
    await writeFile(paths.sidecar, "{ not json");
    // A corrupt sidecar says nothing, not even the content type.
    expect(await store.head("a.bin")).toMatchObject({
      sha256: sha256("payload"),
      contentType: "application/octet-stream",
    });

    await rm(paths.sidecar);
    expect(await store.head("a.bin")).toEqual({
      key: "a.bin",
      size: 7,
      sha256: sha256("payload"),
      contentType: "application/octet-stream",
    });
    expect(JSON.parse(await readFile(paths.sidecar, "utf8")).key).toBe("a.bin");
    await store.close();
  });

  it("does not trust a sidecar that names another key", async () => {
    const root = await dirs.fresh("other-key");
    const store = new FileArtifactStore({ root });
    await store.put("mine", "body", { contentType: "text/plain" });
    const paths = artifactPaths(root, "mine");
    const sidecar = JSON.parse(await readFile(paths.sidecar, "utf8"));
    await writeFile(paths.sidecar, JSON.stringify({ ...sidecar, key: "theirs", contentType: "text/evil" }));
    expect(await store.head("mine")).toEqual({
      key: "mine",
      size: 4,
      sha256: sha256("body"),
      contentType: "application/octet-stream",
    });
    await store.close();
  });

  it("ignores a sidecar whose body is gone", async () => {
    const root = await dirs.fresh("orphan");
    const store = new FileArtifactStore({ root });
    await store.put("orphan", "x");
    await rm(artifactPaths(root, "orphan").body);
    expect(await store.head("orphan")).toBeNull();
    await expect(store.get("orphan")).rejects.toMatchObject({ code: "not_found" });
    await store.put("orphan", "back");
    expect(await store.head("orphan")).toMatchObject({ sha256: sha256("back") });
    await store.close();
  });
});

describe("FileArtifactStore atomicity", () => {
  it("leaves no temporary files behind, whatever happens to the put", async () => {
    const root = await dirs.fresh("no-temp");
    const store = new FileArtifactStore({ root });
    await Promise.all(
      Array.from({ length: 8 }, (_, index) => store.put("same/key", new Uint8Array(200_000).fill(index))),
    );
    // A folder where the body belongs makes the rename fail: its temporary file goes too.
    const paths = artifactPaths(root, "blocked");
    await store.put("blocked", "x");
    await rm(paths.body);
    await writeFile(paths.sidecar, "");
    await mkdir(paths.body);
    expect((await rejection(store.put("blocked", "y"))).code).toBe("storage_corrupt");
    expect(await readdir(join(root, "tmp"))).toEqual([]);
    expect((await filesUnder(root)).filter((name) => name.endsWith(".tmp"))).toEqual([]);
    await store.close();
  });

  it("never shows a partial body to readers while large bodies are replaced", async () => {
    const store = new FileArtifactStore({ root: await dirs.fresh("readers") });
    const bodies = [new Uint8Array(3_000_000).fill(0x61), new Uint8Array(5_000_000).fill(0x62)];
    const known = new Set(bodies.map((body) => sha256(body)));
    await store.put("swap.bin", bodies[0] ?? "");
    let writing = true;
    const writer = (async () => {
      for (let round = 0; round < 10; round++) await store.put("swap.bin", bodies[round % 2] ?? "");
      writing = false;
    })();
    let reads = 0;
    while (writing || reads === 0) {
      expect(known.has(sha256(await store.get("swap.bin")))).toBe(true);
      reads++;
    }
    await writer;
    await store.close();
  });

  it("keeps the old body when the writing process is killed mid-write", async () => {
    const root = await dirs.fresh("killed");
    const store = new FileArtifactStore({ root });
    const old = await store.put("victim.bin", "the old body", { contentType: "text/plain" });

    const child = spawn(
      process.execPath,
      ["--import", tsxLoader, stalledPutWorker, root, "victim.bin", String(32 * 1024 * 1024)],
      { stdio: ["ignore", "pipe", "pipe"] },
    );
    try {
      await waitForLine(child, "mid-write");
      // Mid-write: the new body is in a temporary file in tmp/, invisible to readers.
      expect(await readdir(join(root, "tmp"))).toHaveLength(1);
      expect(Buffer.from(await store.get("victim.bin")).toString()).toBe("the old body");
      child.kill("SIGKILL");
      await once(child, "exit");
    } finally {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
    }

    expect(Buffer.from(await store.get("victim.bin")).toString()).toBe("the old body");
    expect(await store.head("victim.bin")).toEqual(old);
    // The dead process's temporary file stays, but no method ever sees it, and puts go on working.
    await store.put("victim.bin", "a new body");
    expect(Buffer.from(await store.get("victim.bin")).toString()).toBe("a new body");
    await store.close();
  });
});

describe("FileArtifactStore errors and lifecycle", () => {
  it("reports I/O failures as storage_error with the path", async () => {
    const dir = await dirs.fresh("io");
    const root = join(dir, "not-a-dir");
    await writeFile(root, "a file where the root should be");
    const error = await rejection(new FileArtifactStore({ root }).put("k", "v"));
    expect(error.code).toBe("storage_error");
    expect(error.details).toMatchObject({ key: "k", operation: "put", path: root });
  });

  it("rejects every call after close with storage_connection_failed", async () => {
    const store = new FileArtifactStore({ root: await dirs.fresh("closed") });
    await store.put("k", "v");
    await store.close();
    await store.close();
    for (const attempt of [
      () => store.put("k", "v"),
      () => store.get("k"),
      () => store.getStream("k"),
      () => store.head("k"),
      () => store.delete("k"),
    ]) {
      expect((await rejection(attempt())).code).toBe("storage_connection_failed");
    }
  });

  it("close lets the calls under way finish before it closes the store's directories", async () => {
    const root = await dirs.fresh("close-waits");
    const store = new FileArtifactStore({ root });
    const body = new Uint8Array(8 * 1024 * 1024).fill(0x7a);
    const puts = [store.put("one", body), store.put("two", body)];
    await store.close();
    expect((await Promise.all(puts)).map((info) => info.sha256)).toEqual([sha256(body), sha256(body)]);
    const reopened = new FileArtifactStore({ root });
    expect(sha256(await reopened.get("two"))).toBe(sha256(body));
    await reopened.close();
  });

  it("needs a root, and a known confinement", () => {
    expect(() => new FileArtifactStore({ root: "" })).toThrow(AsmError);
    const error = (() => {
      try {
        new FileArtifactStore({ root: "/tmp/x", confinement: "chroot" as Confinement });
      } catch (thrown) {
        return thrown;
      }
    })();
    expect(error).toMatchObject({ code: "validation_error", details: { field: "confinement" } });
  });
});

/** Resolves when the child prints `line`; rejects if it exits first. */
async function waitForLine(child: ChildProcess, line: string): Promise<void> {
  let output = "";
  let errors = "";
  child.stderr?.on("data", (chunk: Buffer) => {
    errors += chunk.toString();
  });
  await new Promise<void>((resolvePromise, reject) => {
    child.stdout?.on("data", (chunk: Buffer) => {
      output += chunk.toString();
      if (output.split("\n").includes(line)) resolvePromise();
    });
    child.once("exit", (code) => reject(new Error(`worker exited (${code}) before "${line}": ${errors}`)));
  });
}

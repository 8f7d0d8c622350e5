import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { mkdir, mkdtemp, readdir, readFile, rm, symlink, writeFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AsmError } from "../../core/errors.js";
import { defineArtifactStoreConformance } from "../../testing/index.js";
import { rejection, sha256 } from "../test-support/assertions.js";
import { FileArtifactStore } from "./index.js";

const tsxLoader = pathToFileURL(createRequire(import.meta.url).resolve("tsx")).href;
const stalledPutWorker = fileURLToPath(new URL("./test-support/stalled-put-worker.ts", import.meta.url));

let base: string;
let counter = 0;

beforeAll(async () => {
  base = await mkdtemp(join(tmpdir(), "asm-file-artifacts-"));
});

afterAll(async () => {
  await rm(base, { recursive: true, force: true });
});

/** A fresh directory under this file's temp folder. */
async function freshDir(name: string): Promise<string> {
  const dir = join(base, `${name}-${++counter}`);
  await mkdir(dir, { recursive: true });
  return dir;
}

defineArtifactStoreConformance(
  {
    name: "FileArtifactStore",
    open: async () => new FileArtifactStore({ root: join(await freshDir("conformance"), "root") }),
  },
  { describe, it },
);

/** Every file under `dir`, as paths relative to it. */
async function filesUnder(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries
    .filter((entry) => !entry.isDirectory())
    .map((entry) => join(entry.parentPath, entry.name).slice(dir.length + 1))
    .sort();
}

describe("FileArtifactStore layout", () => {
  it("stores the body byte for byte under objects/ and a JSON sidecar under meta/", async () => {
    const root = await freshDir("layout");
    const store = new FileArtifactStore({ root });
    await store.put("runs/r1/patch.diff", "+line\n", { contentType: "text/x-diff" });

    expect(await readFile(join(root, "objects/runs/r1/patch.diff"), "utf8")).toBe("+line\n");
    const sidecar = JSON.parse(await readFile(join(root, "meta/runs/r1/patch.diff"), "utf8"));
    expect(sidecar).toMatchObject({
      version: 1,
      size: 6,
      sha256: sha256("+line\n"),
      contentType: "text/x-diff",
    });
    expect(await filesUnder(root)).toEqual(["meta/runs/r1/patch.diff", "objects/runs/r1/patch.diff"]);
  });

  it("removes emptied folders on delete, in both trees", async () => {
    const root = await freshDir("prune");
    const store = new FileArtifactStore({ root });
    await store.put("a/b/c/deep.txt", "x");
    await store.put("a/keep.txt", "y");
    await store.delete("a/b/c/deep.txt");
    expect(await readdir(join(root, "objects/a"))).toEqual(["keep.txt"]);
    expect(await readdir(join(root, "meta/a"))).toEqual(["keep.txt"]);
  });

  it("getStream streams the body", async () => {
    const store = new FileArtifactStore({ root: await freshDir("stream") });
    const body = new Uint8Array(3 * 1024 * 1024).map((_, index) => (index * 7) % 256);
    await store.put("big.bin", body);
    const chunks: Buffer[] = [];
    for await (const chunk of await store.getStream("big.bin")) chunks.push(chunk as Buffer);
    expect(sha256(Buffer.concat(chunks))).toBe(sha256(body));
    await expect(store.getStream("absent")).rejects.toMatchObject({ code: "not_found" });
  });
});

describe("FileArtifactStore sidecar", () => {
  it("re-hashes a body edited behind the store's back, even at the same size", async () => {
    const root = await freshDir("edited");
    const store = new FileArtifactStore({ root });
    await store.put("doc.txt", "aaaa", { contentType: "text/plain" });
    await writeFile(join(root, "objects/doc.txt"), "bbbb");
    expect(await store.head("doc.txt")).toEqual({
      key: "doc.txt",
      size: 4,
      sha256: sha256("bbbb"),
      contentType: "text/plain",
    });
    // The repaired sidecar is trusted from now on.
    const sidecar = JSON.parse(await readFile(join(root, "meta/doc.txt"), "utf8"));
    expect(sidecar.sha256).toBe(sha256("bbbb"));
  });

  it("rebuilds a missing or corrupt sidecar from the body", async () => {
    const root = await freshDir("rebuild");
    const store = new FileArtifactStore({ root });
    await store.put("a.bin", "payload", { contentType: "application/x-a" });
    await writeFile(join(root, "meta/a.bin"), "{ not json");
    // A corrupt sidecar says nothing, not even the content type.
    expect(await store.head("a.bin")).toMatchObject({
      sha256: sha256("payload"),
      contentType: "application/octet-stream",
    });

    await rm(join(root, "meta/a.bin"));
    expect(await store.head("a.bin")).toEqual({
      key: "a.bin",
      size: 7,
      sha256: sha256("payload"),
      contentType: "application/octet-stream",
    });
  });

  it("treats a body dropped into objects/ by hand as an artifact", async () => {
    const root = await freshDir("by-hand");
    const store = new FileArtifactStore({ root });
    await store.put("placeholder", "x");
    await mkdir(join(root, "objects/imported"), { recursive: true });
    await writeFile(join(root, "objects/imported/data.csv"), "a,b\n1,2\n");
    expect(await store.head("imported/data.csv")).toMatchObject({ size: 8, sha256: sha256("a,b\n1,2\n") });
    expect(Buffer.from(await store.get("imported/data.csv")).toString()).toBe("a,b\n1,2\n");
  });

  it("ignores a sidecar whose body is gone, and clears one that blocks a new key's folder", async () => {
    const root = await freshDir("orphan");
    const store = new FileArtifactStore({ root });
    await store.put("placeholder", "x");
    await writeFile(join(root, "meta/orphan"), "{}");
    expect(await store.head("orphan")).toBeNull();
    await store.put("orphan/child", "works");
    expect(await store.head("orphan/child")).toMatchObject({ sha256: sha256("works") });
  });
});

describe("FileArtifactStore key conflicts", () => {
  it("cannot store a key below an artifact, nor an artifact over a folder of keys", async () => {
    const store = new FileArtifactStore({ root: await freshDir("conflict") });
    await store.put("a", "file");
    const below = await rejection(store.put("a/b", "nested"));
    expect(below.code).toBe("already_exists");
    expect(below.details).toMatchObject({
      key: "a/b",
      conflict: "ancestor_is_artifact",
      conflictingKey: "a",
    });

    await store.put("x/y", "nested");
    const over = await rejection(store.put("x", "file"));
    expect(over.code).toBe("already_exists");
    expect(over.details).toMatchObject({ key: "x", conflict: "has_descendants" });
    expect(Buffer.from(await store.get("x/y")).toString()).toBe("nested");

    await store.delete("x/y");
    await store.put("x", "now a file");
    expect(Buffer.from(await store.get("x")).toString()).toBe("now a file");
  });
});

describe("FileArtifactStore confinement", () => {
  it("refuses to follow a symlinked folder out of the root, for every method", async () => {
    const dir = await freshDir("escape");
    const root = join(dir, "root");
    const outside = join(dir, "outside");
    await mkdir(outside);
    await writeFile(join(outside, "secret.txt"), "do not read");
    const store = new FileArtifactStore({ root });
    await store.put("placeholder", "x");
    await symlink(outside, join(root, "objects/evil"));

    for (const attempt of [
      () => store.put("evil/new.txt", "escaped"),
      () => store.put("evil/deeper/new.txt", "escaped"),
      () => store.get("evil/secret.txt"),
      () => store.getStream("evil/secret.txt"),
      () => store.head("evil/secret.txt"),
      () => store.delete("evil/secret.txt"),
    ]) {
      const error = await rejection(attempt());
      expect(error.code).toBe("storage_error");
      expect(error.details).toMatchObject({ path: join(root, "objects/evil") });
    }
    expect(await readdir(outside)).toEqual(["secret.txt"]);
    expect(await readFile(join(outside, "secret.txt"), "utf8")).toBe("do not read");
  });

  it("refuses a symlink at the key itself, and a put replaces the link, not its target", async () => {
    const dir = await freshDir("leaf-link");
    const root = join(dir, "root");
    const secret = join(dir, "secret.txt");
    await writeFile(secret, "do not read");
    const store = new FileArtifactStore({ root });
    await store.put("placeholder", "x");
    await symlink(secret, join(root, "objects/leak"));

    expect((await rejection(store.get("leak"))).code).toBe("storage_error");
    expect((await rejection(store.head("leak"))).code).toBe("storage_error");
    await store.put("leak", "replaced");
    expect(Buffer.from(await store.get("leak")).toString()).toBe("replaced");
    expect(await readFile(secret, "utf8")).toBe("do not read");
  });

  it("refuses an objects/ tree that is itself a link out of the root", async () => {
    const dir = await freshDir("tree-link");
    const root = join(dir, "root");
    await mkdir(join(dir, "elsewhere"));
    await mkdir(root);
    await symlink(join(dir, "elsewhere"), join(root, "objects"));
    const error = await rejection(new FileArtifactStore({ root }).put("k", "v"));
    expect(error.code).toBe("storage_error");
    expect(await readdir(join(dir, "elsewhere"))).toEqual([]);
  });

  it("works through a root that is a symlink", async () => {
    const dir = await freshDir("root-link");
    await mkdir(join(dir, "real"));
    await symlink(join(dir, "real"), join(dir, "link"));
    const store = new FileArtifactStore({ root: join(dir, "link") });
    await store.put("k/v", "through the link");
    expect(await readFile(join(dir, "real/objects/k/v"), "utf8")).toBe("through the link");
  });
});

describe("FileArtifactStore atomicity", () => {
  it("leaves no temporary files behind, whatever happens to the put", async () => {
    const root = await freshDir("no-temp");
    const store = new FileArtifactStore({ root });
    await Promise.all(
      Array.from({ length: 8 }, (_, index) => store.put("same/key", new Uint8Array(200_000).fill(index))),
    );
    await store.put("a", "file");
    await rejection(store.put("a/b", "conflict"));
    await store.put("x/y", "nested");
    await rejection(store.put("x", "conflict"));
    expect((await filesUnder(root)).filter((name) => name.endsWith(".tmp"))).toEqual([]);
  });

  it("never shows a partial body to readers while large bodies are replaced", async () => {
    const store = new FileArtifactStore({ root: await freshDir("readers") });
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
  });

  it("keeps the old body when the writing process is killed mid-write", async () => {
    const root = await freshDir("killed");
    const store = new FileArtifactStore({ root });
    const old = await store.put("victim.bin", "the old body", { contentType: "text/plain" });

    const child = spawn(
      process.execPath,
      ["--import", tsxLoader, stalledPutWorker, root, "victim.bin", String(32 * 1024 * 1024)],
      {
        stdio: ["ignore", "pipe", "pipe"],
      },
    );
    try {
      await waitForLine(child, "mid-write");
      // Mid-write: the new body is in a temporary file, invisible to readers.
      expect((await filesUnder(join(root, "objects"))).filter((name) => name.endsWith(".tmp"))).toHaveLength(
        1,
      );
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
  });
});

describe("FileArtifactStore errors", () => {
  it("reports I/O failures as storage_error with the path", async () => {
    const dir = await freshDir("io");
    const root = join(dir, "not-a-dir");
    await writeFile(root, "a file where the root should be");
    const error = await rejection(new FileArtifactStore({ root }).put("k", "v"));
    expect(error.code).toBe("storage_error");
    expect(error.details).toMatchObject({ key: "k", operation: "put", path: root });
  });

  it("rejects every call after close with storage_connection_failed", async () => {
    const store = new FileArtifactStore({ root: await freshDir("closed") });
    await store.put("k", "v");
    await store.close();
    await store.close();
    for (const attempt of [
      () => store.put("k", "v"),
      () => store.get("k"),
      () => store.head("k"),
      () => store.delete("k"),
    ]) {
      expect((await rejection(attempt())).code).toBe("storage_connection_failed");
    }
  });

  it("needs a root", () => {
    expect(() => new FileArtifactStore({ root: "" })).toThrow(AsmError);
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

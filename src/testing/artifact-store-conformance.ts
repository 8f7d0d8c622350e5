import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import {
  ARTIFACT_STORE_SPECIFICATION,
  type ArtifactInfo,
  type ArtifactStore,
} from "../ports/artifact-store.js";
import { rejectsWith } from "./assertions.js";
import type { TestFramework } from "./session-store-conformance.js";
import { storeCase } from "./store-case.js";

/** How the suite gets artifact stores to test. */
export interface ArtifactStoreHarness {
  /** Names the suite's top-level `describe`. */
  name: string;
  /** A fresh, empty store that shares no artifacts with any other store `open` returned. */
  open(): Promise<ArtifactStore>;
  /** Disposes of a store after a case. Default: its `close()` when it has one. */
  close?(store: ArtifactStore): Promise<void>;
  /**
   * Size of the body in the large-body case. Default 12 MiB: give a store with a multipart or
   * chunked path a threshold below it, so the case goes through that path.
   */
  largeBodyBytes?: number;
  /**
   * Leaves out the case where puts and gets race on one key. Only for a store running against a
   * stand-in that is not atomic itself (s3rver rewrites an object's file in place, so its GETs
   * can see a torn body); a store on real storage must pass it.
   */
  skipSameKeyRace?: boolean;
}

const MiB = 1024 * 1024;
const EMPTY_SHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

/** Keys every store must refuse, with what they must not turn into. */
const INVALID_KEYS: readonly { key: string; wouldBe?: string }[] = [
  { key: "" },
  { key: "/abs", wouldBe: "abs" },
  { key: "../x", wouldBe: "x" },
  { key: "a/../../b", wouldBe: "b" },
  { key: "a/../b", wouldBe: "b" },
  { key: "./a", wouldBe: "a" },
  { key: "a/./b", wouldBe: "a/b" },
  { key: "." },
  { key: ".." },
  { key: "a//b", wouldBe: "a/b" },
  { key: "a/", wouldBe: "a" },
  { key: "a\\b" },
  { key: "..\\x" },
  { key: "a\u0000b", wouldBe: "a" },
  { key: "line\nbreak" },
  { key: "x".repeat(1025) },
  { key: "\ud800lone", wouldBe: "lone" },
];

/**
 * Defines the `ArtifactStore` contract as test cases in the caller's framework, against the
 * stores `harness` opens. Assertions use `node:assert/strict`; errors are matched by shape, so a
 * store built on another copy of the library passes. Give each test at least 30 s: one case
 * moves a 12 MiB body.
 *
 * Decisions the port leaves open and this suite pins down:
 * - `head` reports `contentType: "application/octet-stream"` for an artifact put without one,
 *   and `put` resolves with exactly what `head` then returns.
 * - Keys follow one grammar on every backend: relative, `/`-separated, non-empty segments, no
 *   `.`/`..` segments (not even `a/../b`), no backslash or control characters, at most 1024
 *   UTF-8 bytes. Every method, not only `put`, rejects other keys with `validation_error`.
 * - A key that is only a folder of other keys (`a` when `a/b` is stored) has no artifact, and
 *   `a`, `a/b` and `a/b/c` can all be stored at once, as independent artifacts (as on S3).
 * - A body that is neither a `Uint8Array` nor a string, and a `contentType` that is not 1 to
 *   255 visible ASCII characters, are `validation_error`.
 */
export function defineArtifactStoreConformance(
  harness: ArtifactStoreHarness,
  framework: TestFramework,
): void {
  const { describe, it } = framework;
  const largeBodyBytes = harness.largeBodyBytes ?? 12 * MiB;
  const dispose = async (store: ArtifactStore): Promise<void> => {
    if (harness.close) return harness.close(store);
    const closable = store as ArtifactStore & { close?: unknown };
    if (typeof closable.close === "function") await closable.close();
  };
  const test = storeCase<ArtifactStore>(it, () => harness.open(), dispose);

  describe(`${harness.name}: ArtifactStore conformance`, () => {
    test("declares the ArtifactStore specification it implements", async (store) => {
      assert.equal(store.specificationVersion, ARTIFACT_STORE_SPECIFICATION);
    });
    describe("put and get", () => {
      test("returns the bytes that were put", async (store) => {
        const body = new Uint8Array([104, 101, 108, 108, 111, 0, 255, 10]);
        await store.put("greeting.bin", body);
        assertBytes(await store.get("greeting.bin"), body);
      });

      test("stores a string as UTF-8", async (store) => {
        const text = "héllo wörld ✓ 🚀 日本語\n";
        const info = await store.put("notes/text.txt", text);
        const expected = Buffer.from(text, "utf8");
        assertBytes(await store.get("notes/text.txt"), expected);
        assert.equal(info.size, expected.byteLength);
        assert.equal(info.sha256, sha256(expected));
      });

      test("keeps every byte value", async (store) => {
        const body = new Uint8Array(256 * 4).map((_, index) => index % 256);
        const info = await store.put("all-bytes.bin", body);
        assertBytes(await store.get("all-bytes.bin"), body);
        assert.equal(info.sha256, sha256(body));
      });

      test("stores an empty body", async (store) => {
        const info = await store.put("empty", new Uint8Array(0));
        assert.deepEqual(info, {
          key: "empty",
          size: 0,
          sha256: EMPTY_SHA256,
          contentType: "application/octet-stream",
        });
        assertBytes(await store.get("empty"), new Uint8Array(0));
        assert.deepEqual(await store.head("empty"), info);
      });

      test("accepts a Uint8Array view into a larger buffer", async (store) => {
        const backing = new Uint8Array(64).map((_, index) => index);
        const view = backing.subarray(10, 20);
        const info = await store.put("view.bin", view);
        assertBytes(await store.get("view.bin"), view);
        assert.equal(info.size, 10);
      });

      test("keeps its own copy: changing the put body or a returned body later changes nothing", async (store) => {
        const body = new Uint8Array([1, 2, 3, 4]);
        await store.put("copied", body);
        body.fill(9);
        const first = await store.get("copied");
        first.fill(7);
        assertBytes(await store.get("copied"), new Uint8Array([1, 2, 3, 4]));
      });

      test("overwriting replaces the body, size, checksum and content type", async (store) => {
        await store.put("report", "a first, rather long version of the report", {
          contentType: "text/plain",
        });
        const info = await store.put("report", "v2", { contentType: "text/markdown" });
        assert.deepEqual(info, {
          key: "report",
          size: 2,
          sha256: sha256(Buffer.from("v2")),
          contentType: "text/markdown",
        });
        assertBytes(await store.get("report"), Buffer.from("v2"));
        assert.deepEqual(await store.head("report"), info);
        const longer = await store.put("report", "the third version is longer again");
        assert.equal(longer.contentType, "application/octet-stream");
        assertBytes(await store.get("report"), Buffer.from("the third version is longer again"));
      });

      test("get of a missing key is not_found", async (store) => {
        await rejectsWith(store.get("missing/key.txt"), "not_found", { key: "missing/key.txt" });
      });
    });

    describe("head", () => {
      test("reports size, sha256 and content type, as put returned them", async (store) => {
        const body = Buffer.from("diff --git a/x b/x\n+added\n");
        const put = await store.put("runs/run_1/patch.diff", body, { contentType: "text/x-diff" });
        const expected: ArtifactInfo = {
          key: "runs/run_1/patch.diff",
          size: body.byteLength,
          sha256: sha256(body),
          contentType: "text/x-diff",
        };
        assert.deepEqual(put, expected);
        assert.deepEqual(await store.head("runs/run_1/patch.diff"), expected);
      });

      test("reports application/octet-stream when no content type was given", async (store) => {
        await store.put("untyped", "x");
        assert.equal((await store.head("untyped"))?.contentType, "application/octet-stream");
      });

      test("of a missing key is null", async (store) => {
        assert.equal(await store.head("missing"), null);
        await store.put("present", "x");
        assert.equal(await store.head("presen"), null);
        assert.equal(await store.head("present/child"), null);
      });
    });

    describe("delete", () => {
      test("removes the artifact", async (store) => {
        await store.put("doomed.txt", "bye");
        await store.delete("doomed.txt");
        assert.equal(await store.head("doomed.txt"), null);
        await rejectsWith(store.get("doomed.txt"), "not_found", { key: "doomed.txt" });
      });

      test("is idempotent: deleting a missing or already deleted key is a no-op", async (store) => {
        await store.delete("never-stored");
        await store.put("twice", "x");
        await store.delete("twice");
        await store.delete("twice");
        assert.equal(await store.head("twice"), null);
      });

      test("a deleted key can be put again", async (store) => {
        await store.put("phoenix", "first");
        await store.delete("phoenix");
        await store.put("phoenix", "second");
        assertBytes(await store.get("phoenix"), Buffer.from("second"));
      });
    });

    describe("keys", () => {
      test("nested keys are independent artifacts", async (store) => {
        await store.put("sessions/s1/runs/r1/patch.diff", "one");
        await store.put("sessions/s1/runs/r2/patch.diff", "two");
        await store.put("sessions/s1/summary.md", "three");
        await store.delete("sessions/s1/runs/r1/patch.diff");
        assert.equal(await store.head("sessions/s1/runs/r1/patch.diff"), null);
        assertBytes(await store.get("sessions/s1/runs/r2/patch.diff"), Buffer.from("two"));
        assertBytes(await store.get("sessions/s1/summary.md"), Buffer.from("three"));
        await store.delete("sessions/s1/runs/r2/patch.diff");
        assertBytes(await store.get("sessions/s1/summary.md"), Buffer.from("three"));
        await store.put("sessions/s1/runs/r1/patch.diff", "again");
        assertBytes(await store.get("sessions/s1/runs/r1/patch.diff"), Buffer.from("again"));
      });

      test("a folder of other keys is not an artifact", async (store) => {
        await store.put("folder/inside.txt", "x");
        assert.equal(await store.head("folder"), null);
        await rejectsWith(store.get("folder"), "not_found", { key: "folder" });
        await store.delete("folder");
        assertBytes(await store.get("folder/inside.txt"), Buffer.from("x"));
      });

      test("a key and keys below it are independent artifacts", async (store) => {
        await store.put("tree", "the key itself");
        await store.put("tree/branch", "one below");
        await store.put("tree/branch/leaf", "two below");
        assertBytes(await store.get("tree"), Buffer.from("the key itself"));
        assertBytes(await store.get("tree/branch"), Buffer.from("one below"));
        assert.equal((await store.head("tree/branch/leaf"))?.sha256, sha256(Buffer.from("two below")));
        await store.delete("tree/branch");
        assert.equal(await store.head("tree/branch"), null);
        assertBytes(await store.get("tree"), Buffer.from("the key itself"));
        assertBytes(await store.get("tree/branch/leaf"), Buffer.from("two below"));
        await store.delete("tree");
        assertBytes(await store.get("tree/branch/leaf"), Buffer.from("two below"));
      });

      test("keys with spaces, Unicode, dots and dashes round-trip", async (store) => {
        const keys = [
          "notes/été 2024/résumé.v2.txt",
          ".hidden/.file",
          "a..b/c...d",
          "UPPER/lower/MiXeD-_~+=,;@$!'()",
          "emoji/🚀.bin",
          `${"s".repeat(200)}/end`,
        ];
        for (const [index, key] of keys.entries()) {
          await store.put(key, `body ${index}`);
        }
        for (const [index, key] of keys.entries()) {
          assertBytes(await store.get(key), Buffer.from(`body ${index}`), key);
          assert.equal((await store.head(key))?.key, key);
        }
      });

      test("invalid keys are validation_error on every method, and nothing is written", async (store) => {
        for (const { key, wouldBe } of INVALID_KEYS) {
          const label = JSON.stringify(key);
          await rejectsWith(store.put(key, "x"), "validation_error", {}, `put ${label}`);
          await rejectsWith(store.get(key), "validation_error", {}, `get ${label}`);
          await rejectsWith(store.head(key), "validation_error", {}, `head ${label}`);
          await rejectsWith(store.delete(key), "validation_error", {}, `delete ${label}`);
          if (wouldBe !== undefined)
            assert.equal(await store.head(wouldBe), null, `${label} wrote ${wouldBe}`);
        }
      });

      test("a key that is not a string is validation_error", async (store) => {
        const notAKey = 42 as unknown as string;
        await rejectsWith(store.put(notAKey, "x"), "validation_error");
        await rejectsWith(store.head(notAKey), "validation_error");
      });
    });

    describe("validation of bodies and options", () => {
      test("a body that is neither bytes nor a string is validation_error", async (store) => {
        for (const body of [null, 42, { length: 1 }, [1, 2, 3]]) {
          await rejectsWith(
            store.put("bad-body", body as unknown as string),
            "validation_error",
            {},
            JSON.stringify(body),
          );
        }
        assert.equal(await store.head("bad-body"), null);
      });

      test("a malformed content type is validation_error", async (store) => {
        for (const contentType of ["", "  ", "text/plain\r\nX-Injected: 1", "x".repeat(256), "tëxt/plain"]) {
          await rejectsWith(
            store.put("bad-type", "x", { contentType }),
            "validation_error",
            {},
            JSON.stringify(contentType),
          );
        }
        assert.equal(await store.head("bad-type"), null);
      });
    });

    describe("large and concurrent", () => {
      test(`a ${formatBytes(largeBodyBytes)} body round-trips with the right sha256`, async (store) => {
        const body = patternBytes(largeBodyBytes, 7);
        const info = await store.put("large/blob.bin", body, { contentType: "application/x-test" });
        const expected = { key: "large/blob.bin", size: largeBodyBytes, sha256: sha256(body) };
        assert.deepEqual(info, { ...expected, contentType: "application/x-test" });
        assert.deepEqual(await store.head("large/blob.bin"), info);
        const read = await store.get("large/blob.bin");
        assert.equal(read.byteLength, largeBodyBytes);
        assert.equal(sha256(read), expected.sha256);
      });

      test("concurrent puts to different keys all land", async (store) => {
        const count = 16;
        const bodies = Array.from({ length: count }, (_, index) =>
          patternBytes(32 * 1024 + index, index + 1),
        );
        const infos = await Promise.all(
          bodies.map((body, index) => store.put(`parallel/${index}.bin`, body)),
        );
        for (const [index, body] of bodies.entries()) {
          assert.equal(infos[index]?.sha256, sha256(body));
          assert.equal(sha256(await store.get(`parallel/${index}.bin`)), sha256(body), `key ${index}`);
        }
      });

      const raceTest = harness.skipSameKeyRace === true ? () => undefined : test;
      raceTest("concurrent puts and gets of one key see whole bodies, never a torn one", async (store) => {
        const versions = [patternBytes(100_000, 1), patternBytes(150_000, 2), patternBytes(50_000, 3)];
        const known = new Set(versions.map(sha256));
        await store.put("contended", versions[0] ?? new Uint8Array());
        const reads: Promise<void>[] = [];
        const writes: Promise<unknown>[] = [];
        for (let round = 0; round < 12; round++) {
          writes.push(store.put("contended", versions[round % versions.length] ?? new Uint8Array()));
          reads.push(
            store.get("contended").then((bytes) => {
              assert.ok(known.has(sha256(bytes)), `a read saw a torn body of ${bytes.byteLength} bytes`);
            }),
          );
        }
        await Promise.all([...writes, ...reads]);
        const final = await store.get("contended");
        assert.ok(known.has(sha256(final)));
        assert.equal((await store.head("contended"))?.sha256, sha256(final));
      });
    });
  });
}

function sha256(bytes: Uint8Array): string {
  return createHash("sha256").update(bytes).digest("hex");
}

/** Compares bytes whatever the view type (Buffer, Uint8Array, subarray). */
function assertBytes(actual: Uint8Array, expected: Uint8Array, context = ""): void {
  assert.ok(actual instanceof Uint8Array, `${context} expected a Uint8Array, got ${typeof actual}`);
  assert.equal(actual.byteLength, expected.byteLength, `${context} length`);
  assert.ok(Buffer.from(actual).equals(Buffer.from(expected)), `${context} bytes differ`);
}

/** Deterministic, incompressible-looking bytes (an xorshift stream), fast enough for many MiB. */
function patternBytes(size: number, seed: number): Uint8Array {
  const bytes = new Uint8Array(size);
  const words = new Uint32Array(bytes.buffer, 0, Math.floor(size / 4));
  let state = seed * 2654435761 || 1;
  for (let index = 0; index < words.length; index++) {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    words[index] = state >>> 0;
  }
  for (let index = words.length * 4; index < size; index++) bytes[index] = index & 0xff;
  return bytes;
}

function formatBytes(bytes: number): string {
  return bytes % MiB === 0 ? `${bytes / MiB} MiB` : `${bytes} byte`;
}

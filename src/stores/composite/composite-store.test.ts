import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FileArtifactStore } from "../../artifacts/file/index.js";
import { AsmError } from "../../core/errors.js";
import type { ArtifactInfo, ArtifactStore } from "../../ports/artifact-store.js";
import { ARTIFACT_STORE_SPECIFICATION } from "../../ports/artifact-store.js";
import type { Maintenance } from "../../ports/maintenance.js";
import type { QueryApi } from "../../ports/query-api.js";
import { defineArtifactStoreConformance, defineSessionStoreConformance } from "../../testing/index.js";
import { MemorySessionStore } from "../memory/index.js";
import { CompositeStore, createCompositeStore } from "./index.js";

let base: string;
let counter = 0;

beforeAll(async () => {
  base = await mkdtemp(join(tmpdir(), "asm-composite-"));
});

afterAll(async () => {
  await rm(base, { recursive: true, force: true });
});

function fileArtifacts(): FileArtifactStore {
  return new FileArtifactStore({ root: join(base, `store-${++counter}`) });
}

defineSessionStoreConformance(
  {
    name: "CompositeStore (memory sessions)",
    open: async () =>
      createCompositeStore({ sessions: new MemorySessionStore(), artifacts: fileArtifacts() }),
  },
  { describe, it },
);

defineArtifactStoreConformance(
  {
    name: "CompositeStore (file artifacts)",
    open: async () =>
      createCompositeStore({ sessions: new MemorySessionStore(), artifacts: fileArtifacts() }),
  },
  { describe, it },
);

/** An artifact store that records what happens to it and fails on request. */
class ProbeArtifactStore implements ArtifactStore {
  readonly specificationVersion = ARTIFACT_STORE_SPECIFICATION;
  closes = 0;
  failWith: unknown;

  async put(key: string): Promise<ArtifactInfo> {
    if (this.failWith !== undefined) throw this.failWith;
    return { key, size: 0, sha256: "", contentType: "application/octet-stream" };
  }
  async get(): Promise<Uint8Array> {
    return new Uint8Array();
  }
  async head(): Promise<ArtifactInfo | null> {
    return null;
  }
  async delete(): Promise<void> {}
  async close(): Promise<void> {
    this.closes++;
    if (this.failWith !== undefined) throw this.failWith;
  }
}

describe("CompositeStore", () => {
  it("passes the session store's query and maintenance through, typed, when it has them", async () => {
    const query = { searchSessions: async () => ({ items: [] }) } as unknown as QueryApi;
    const maintenance = {} as Maintenance;
    const sessions = Object.assign(new MemorySessionStore(), { query, maintenance });
    const store = createCompositeStore({ sessions, artifacts: new ProbeArtifactStore() });
    const typed: QueryApi = store.query;
    expect(typed).toBe(query);
    expect(store.maintenance).toBe(maintenance);
    expect(await store.query.searchSessions()).toEqual({ items: [] });

    const plain = createCompositeStore({
      sessions: new MemorySessionStore(),
      artifacts: new ProbeArtifactStore(),
    });
    expect("query" in plain).toBe(false);
    expect("maintenance" in plain).toBe(false);
    await store.close();
    await plain.close();
  });

  it("routes sessions to one store and artifacts to the other", async () => {
    const sessions = new MemorySessionStore();
    const artifacts = fileArtifacts();
    const store = createCompositeStore({ sessions, artifacts });
    await store.put("a.txt", "body");
    expect(await artifacts.head("a.txt")).toMatchObject({ size: 4 });
    expect(await sessions.listSessions()).toEqual([]);
    expect(store.sessions).toBe(sessions);
    expect(store.artifacts).toBe(artifacts);
    await store.close();
  });

  it("closes both stores once, and rejects every call afterwards", async () => {
    const sessions = new MemorySessionStore();
    const artifacts = new ProbeArtifactStore();
    const store = new CompositeStore({ sessions, artifacts });
    await Promise.all([store.close(), store.close()]);
    await store.close();
    expect(artifacts.closes).toBe(1);
    const closed = { code: "storage_error", details: { closed: true } };
    await expect(sessions.listSessions()).rejects.toMatchObject(closed);
    await expect(store.put("k", "v")).rejects.toMatchObject(closed);
    await expect(store.listSessions()).rejects.toMatchObject(closed);
  });

  it("closes the session store even when the artifact store fails to close, then reports it", async () => {
    const sessions = new MemorySessionStore();
    const artifacts = new ProbeArtifactStore();
    artifacts.failWith = new Error("disk gone");
    const store = new CompositeStore({ sessions, artifacts });
    await expect(store.close()).rejects.toMatchObject({ code: "storage_error", message: "disk gone" });
    await expect(sessions.listSessions()).rejects.toMatchObject({
      code: "storage_error",
      details: { closed: true },
    });
  });

  it("turns anything but an AsmError from a part into storage_error, and keeps AsmErrors", async () => {
    const artifacts = new ProbeArtifactStore();
    const store = new CompositeStore({ sessions: new MemorySessionStore(), artifacts });
    artifacts.failWith = new TypeError("a bug in a custom store");
    const wrapped = await store.put("k", "v").catch((error: unknown) => error);
    expect(wrapped).toBeInstanceOf(AsmError);
    expect(wrapped).toMatchObject({ code: "storage_error", message: "a bug in a custom store" });
    artifacts.failWith = new AsmError("storage_busy", "slow down");
    await expect(store.put("k", "v")).rejects.toBe(artifacts.failWith);
    artifacts.failWith = undefined;
    await store.close();
  });

  it("needs both parts", () => {
    const parts = { sessions: new MemorySessionStore() } as unknown as ConstructorParameters<
      typeof CompositeStore
    >[0];
    expect(() => new CompositeStore(parts)).toThrow(expect.objectContaining({ code: "validation_error" }));
  });
});

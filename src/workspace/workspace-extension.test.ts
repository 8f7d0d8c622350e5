import { existsSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { FileArtifactStore } from "../artifacts/file/index.js";
import { AsmError } from "../core/errors.js";
import type { AsmEvent } from "../core/events.js";
import { aborted, type Script, ScriptedAdapter } from "../manager/test-support/scripted-adapter.js";
import { SessionServer } from "../runtime/session-server.js";
import { SessionManager, type SessionManagerOptions } from "../session-manager.js";
import { MemorySessionStore } from "../stores/memory/index.js";
import { gitRepo, tempWorkspace, userGitState, writeFiles } from "./test-support/git-fixtures.js";

const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const cleanup of cleanups.splice(0)) cleanup();
});

function workspaceDir(prefix: string): string {
  const { dir, remove } = tempWorkspace(prefix);
  cleanups.push(remove);
  return dir;
}

async function repo(): Promise<string> {
  const dir = workspaceDir("run");
  await gitRepo(dir, { "a.txt": "one\n", "b.txt": "b\n" });
  return dir;
}

function setup(script: Script, options: Partial<SessionManagerOptions> = {}) {
  const store = new MemorySessionStore();
  const manager = new SessionManager({ store, adapter: new ScriptedAdapter(script), ...options });
  return { store, manager };
}

async function pendingRun(manager: SessionManager) {
  const session = await manager.startSession({ agentId: "agent" });
  await manager.activateSession(session.id);
  return manager.startRun(session.id, "edit the files");
}

async function rejection(promise: Promise<unknown>): Promise<AsmError> {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  if (!AsmError.is(error)) throw new Error(`expected an AsmError, got ${String(error)}`);
  return error;
}

/** An agent that edits a.txt, creates c.txt and deletes b.txt, then ends as `end` says. */
function editing(
  dir: string,
  end: (signal: AbortSignal) => Promise<never> | Promise<void> = async () => {},
): Script {
  return async (_request, sink, signal) => {
    sink.emit({ type: "run_started", data: {} });
    writeFiles(dir, { "a.txt": "one\ntwo\n", "c.txt": "new\n" });
    rmSync(join(dir, "b.txt"));
    sink.emit({ type: "message_received", data: { role: "assistant", content: "done" } });
    await end(signal);
    return {
      output: { content: "done" },
      stopReason: "end_turn",
      tokenUsage: { inputTokens: 1, outputTokens: 1 },
    };
  };
}

const ofType = <T extends AsmEvent["type"]>(events: readonly AsmEvent[], type: T) =>
  events.filter((event): event is Extract<AsmEvent, { type: T }> => event.type === type);

describe("executeRun({ workspace })", () => {
  it("snapshots before and after, logs both and the diff, and returns result.workspace", async () => {
    const dir = await repo();
    const { store, manager } = setup(editing(dir));
    const run = await pendingRun(manager);
    const result = await manager.executeRun(run.id, { workspace: { path: dir } });

    const snapshots = ofType(result.events, "workspace_snapshot_taken");
    expect(snapshots.map((event) => event.data.label)).toEqual(["before", "after"]);
    expect(snapshots[0]?.data).toMatchObject({
      backend: "git",
      includesUntracked: true,
      path: expect.any(String),
    });
    // The before snapshot precedes the provider's first event; the after one follows its last.
    const types = result.events.map((event) => event.type);
    expect(types.indexOf("workspace_snapshot_taken")).toBeLessThan(types.indexOf("run_started"));
    expect(types.lastIndexOf("workspace_snapshot_taken")).toBeGreaterThan(types.indexOf("message_received"));

    const [diffEvent] = ofType(result.events, "workspace_diff_computed");
    expect(diffEvent?.data).toMatchObject({
      filesChanged: 3,
      insertions: 2,
      deletions: 1,
      paths: ["a.txt", "b.txt", "c.txt"],
      hasPatch: true,
      includesUntracked: true,
    });
    expect(diffEvent?.data.patch).toContain("+two\n");

    expect(result.workspace?.diff).toMatchObject({
      added: ["c.txt"],
      modified: ["a.txt"],
      deleted: ["b.txt"],
    });
    expect(result.workspace?.before.ref).toBe(snapshots[0]?.data.ref);
    const stored = await store.getRun(run.id);
    expect(stored.metadata.workspace).toMatchObject({
      backend: "git",
      beforeRef: snapshots[0]?.data.ref,
      afterRef: snapshots[1]?.data.ref,
      diff: { filesChanged: 3, paths: ["a.txt", "b.txt", "c.txt"] },
    });
    // The agent's changes stay: no rollback on success.
    expect(existsSync(join(dir, "c.txt"))).toBe(true);
  });

  it("rolls back on failure, leaving HEAD, index and stash alone", async () => {
    const dir = await repo();
    const state = await userGitState(dir);
    const { store, manager } = setup(
      editing(dir, async () => {
        throw new AsmError("provider_error", "the agent crashed");
      }),
    );
    const run = await pendingRun(manager);
    const error = await rejection(
      manager.executeRun(run.id, { workspace: { path: dir, rollbackOnFailure: true } }),
    );
    expect(error.code).toBe("provider_error");
    expect(readFileSync(join(dir, "a.txt"), "utf8")).toBe("one\n");
    expect(readFileSync(join(dir, "b.txt"), "utf8")).toBe("b\n");
    expect(existsSync(join(dir, "c.txt"))).toBe(false);
    expect(await userGitState(dir)).toEqual(state);
    const stored = await store.getRun(run.id);
    expect(stored.metadata.workspace).toMatchObject({
      diff: { filesChanged: 3 },
      rollback: { removed: 1, restored: 2 },
    });
  });

  it("rolls back on cancel and on timeout", async () => {
    for (const stop of ["cancel", "timeout"] as const) {
      const dir = await repo();
      const { manager } = setup(
        editing(dir, async (signal) => {
          await aborted(signal);
          throw new AsmError("cancelled", "stopped");
        }),
      );
      const run = await pendingRun(manager);
      const controller = new AbortController();
      const running = manager.executeRun(run.id, {
        workspace: { path: dir, rollbackOnFailure: true },
        ...(stop === "timeout" ? { timeoutMs: 200 } : { signal: controller.signal }),
        onEvent: (event) => {
          if (event.type === "message_received") controller.abort();
        },
      });
      expect((await rejection(running)).code).toBe(stop === "timeout" ? "timeout" : "cancelled");
      expect(existsSync(join(dir, "c.txt")), stop).toBe(false);
      expect(readFileSync(join(dir, "b.txt"), "utf8"), stop).toBe("b\n");
    }
  });

  it("rolls back a run its policy fails, also when the violation is only found at the end", async () => {
    const dir = await repo();
    const { manager } = setup(editing(dir));
    const run = await pendingRun(manager);
    const error = await rejection(
      manager.executeRun(run.id, {
        policy: { name: "tiny", limits: { maxTotalTokens: 1 } },
        workspace: { path: dir, rollbackOnFailure: true },
      }),
    );
    expect(error.code).toBe("policy_violation");
    expect(existsSync(join(dir, "c.txt"))).toBe(false);
    expect(readFileSync(join(dir, "a.txt"), "utf8")).toBe("one\n");
  });

  it("keeps the changes of a failed run without rollbackOnFailure", async () => {
    const dir = await repo();
    const { manager } = setup(
      editing(dir, async () => {
        throw new AsmError("provider_error", "crash");
      }),
    );
    const run = await pendingRun(manager);
    await rejection(manager.executeRun(run.id, { workspace: { path: dir } }));
    expect(existsSync(join(dir, "c.txt"))).toBe(true);
  });

  it("hash backend: diff and rollback from kept contents", async () => {
    const dir = workspaceDir("hash-run");
    writeFiles(dir, { "a.txt": "one\n", "b.txt": "b\n" });
    const { store, manager } = setup(
      editing(dir, async () => {
        throw new AsmError("provider_error", "crash");
      }),
    );
    const run = await pendingRun(manager);
    await rejection(manager.executeRun(run.id, { workspace: { path: dir, rollbackOnFailure: true } }));
    expect(readFileSync(join(dir, "a.txt"), "utf8")).toBe("one\n");
    expect(existsSync(join(dir, "c.txt"))).toBe(false);
    expect((await store.getRun(run.id)).metadata.workspace).toMatchObject({
      backend: "hash",
      diff: { filesChanged: 3, insertions: 0, hasPatch: false },
      rollback: { removed: 1, restored: 2 },
    });
  });

  it("stores a patch over maxPatchBytes in the artifact store and references it", async () => {
    const dir = await repo();
    const artifactStore = new FileArtifactStore({ root: workspaceDir("artifacts") });
    const { manager } = setup(editing(dir), { workspace: { artifactStore } });
    const run = await pendingRun(manager);
    const result = await manager.executeRun(run.id, { workspace: { path: dir, maxPatchBytes: 10 } });
    const diff = result.workspace?.diff;
    expect(diff?.patch).toBeUndefined();
    expect(diff?.patchRef).toMatch(/^workspace\/patches\//);
    const patch = Buffer.from(await artifactStore.get(diff?.patchRef ?? "")).toString("utf8");
    expect(patch).toContain("+two\n");
    expect(ofType(result.events, "workspace_diff_computed")[0]?.data).toMatchObject({
      hasPatch: true,
      patchRef: diff?.patchRef,
      patchBytes: Buffer.byteLength(patch),
    });
    await artifactStore.close();
  });

  it("refuses bad options before anything is stored, and a missing path before the provider starts", async () => {
    let started = 0;
    const { store, manager } = setup(async () => {
      started += 1;
      return {
        output: { content: "" },
        stopReason: "end_turn",
        tokenUsage: { inputTokens: 0, outputTokens: 0 },
      };
    });
    const run = await pendingRun(manager);
    const invalid = await rejection(
      manager.executeRun(run.id, { workspace: { path: "/tmp", strategy: "svn" as unknown as "git" } }),
    );
    expect(invalid.code).toBe("validation_error");
    expect((await store.getRun(run.id)).status).toBe("pending");

    const missing = await rejection(
      manager.executeRun(run.id, { workspace: { path: "/nonexistent/asm-ws" } }),
    );
    expect(missing.code).toBe("not_found");
    expect(started).toBe(0);
    expect((await store.getRun(run.id)).status).toBe("failed");
  });

  it("a SessionServer's defaultRunOptions give every run its workspace", async () => {
    const dir = await repo();
    const { store, manager } = setup(editing(dir));
    const server = await SessionServer.start({
      manager,
      session: { agentId: "agent" },
      defaultRunOptions: { workspace: { path: dir, capturePatch: false } },
    });
    try {
      const runId = await server.submitRun("edit");
      const result = await server.awaitRun(runId);
      expect(result.workspace?.diff).toMatchObject({ filesChanged: 3, paths: ["a.txt", "b.txt", "c.txt"] });
      expect(result.workspace?.diff.patch).toBeUndefined();
      expect((await store.getRun(runId)).metadata.workspace).toMatchObject({ diff: { hasPatch: false } });
    } finally {
      await server.close();
    }
  });

  it("a git strategy outside a repository vetoes the run", async () => {
    const dir = workspaceDir("plain");
    writeFileSync(join(dir, "x"), "x");
    const { manager } = setup(editing(dir));
    const run = await pendingRun(manager);
    const error = await rejection(manager.executeRun(run.id, { workspace: { path: dir, strategy: "git" } }));
    expect(error.code).toBe("validation_error");
    expect(readFileSync(join(dir, "x"), "utf8")).toBe("x");
    expect(existsSync(join(dir, "c.txt"))).toBe(false);
  });
});

import { statSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { ScriptedAdapter } from "../manager/test-support/scripted-adapter.js";
import { ApprovalGate } from "../policy/approvals.js";
import { SessionServer } from "../runtime/session-server.js";
import { SessionManager } from "../session-manager.js";
import { MemorySessionStore } from "../stores/memory/index.js";
import { openSqliteStore } from "../stores/sqlite/index.js";
import { type AuditEntry, type AuditStore, MemoryAuditStore } from "./audit-store.js";
import { AuditTrail, withActor } from "./audit-trail.js";
import { SqliteAuditStore } from "./sqlite-audit-store.js";

const directories: string[] = [];
const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  await Promise.all(closers.splice(0).map((close) => close()));
  await Promise.all(directories.splice(0).map((path) => rm(path, { recursive: true, force: true })));
});

async function tempDir(): Promise<string> {
  const path = await mkdtemp(join(tmpdir(), "asm-audit-"));
  directories.push(path);
  return path;
}

const backends: [string, () => Promise<AuditStore>][] = [
  ["memory", async () => new MemoryAuditStore()],
  [
    "sqlite",
    async () => {
      const store = SqliteAuditStore.open({ path: join(await tempDir(), "audit.db") });
      closers.push(() => store.close());
      return store;
    },
  ],
];

const secret = `sk-ant-api03-${"A1b2C3d4".repeat(5)}`;

async function collect<T>(items: AsyncIterable<T>): Promise<T[]> {
  const all: T[] = [];
  for await (const item of items) all.push(item);
  return all;
}

function shape(entries: AuditEntry[]) {
  return entries.map(({ action, actor, details }) => ({ action, ...(actor ? { actor } : {}), details }));
}

describe.each(backends)("AuditTrail on the %s audit store", (_name, openAuditStore) => {
  async function setup(options: ConstructorParameters<typeof AuditTrail>[1] = {}) {
    const trail = new AuditTrail(await openAuditStore(), options);
    const store = trail.wrapStore(new MemorySessionStore());
    const manager = new SessionManager({
      store,
      adapter: new ScriptedAdapter(async () => ({ output: { content: "ok" } })),
      extensions: [trail.extension()],
    });
    return { trail, store, manager };
  }

  it("who did what: a one-shot run under a policy, as the actor in effect", async () => {
    const { trail, manager } = await setup({ actor: "service" });
    const result = await withActor("alice", () =>
      manager.runOnce("hello", {
        agentId: "reviewer",
        tags: ["ci"],
        policy: { name: "budget", limits: { maxTotalTokens: 10 } },
      }),
    );
    const entries = await trail.query();
    expect(shape(entries)).toEqual([
      {
        action: "session_created",
        actor: "alice",
        details: { provider: "scripted", agentId: "reviewer", tags: ["ci"] },
      },
      { action: "run_submitted", actor: "alice", details: { input: "prompt" } },
      {
        action: "policy_attached",
        actor: "alice",
        details: {
          policies: [
            expect.objectContaining({
              name: "budget",
              limits: { maxTotalTokens: 10 },
              onViolation: "cancel",
            }),
          ],
        },
      },
      { action: "session_completed", actor: "alice", details: {} },
    ]);
    expect(entries.map((entry) => entry.sequence)).toEqual([1, 2, 3, 4]);
    expect(entries.every((entry) => entry.sessionId === result.sessionId)).toBe(true);
    expect(entries.slice(1, 3).every((entry) => entry.runId === result.runId)).toBe(true);

    // Outside withActor, the trail's own actor.
    await manager.startSession({ agentId: "x" });
    expect((await trail.query({ after: 4 }))[0]?.actor).toBe("service");
  });

  it("cancels, interrupts and a cancelled session, with their reasons (redacted)", async () => {
    const { trail, manager } = await setup();
    const session = await manager.startSession({ agentId: "a" });
    await manager.activateSession(session.id);
    const first = await manager.startRun(session.id, "one");
    const second = await manager.startRun(session.id, "two");
    await withActor("bob", async () => {
      await manager.cancelRun(first.id, "superseded");
      await manager.interruptRun(second.id, "pause");
      await manager.cancelSession(session.id, `leaked ${secret}`);
    });
    const entries = await trail.query({ actions: ["run_cancelled", "run_interrupted", "session_cancelled"] });
    expect(entries.map((entry) => [entry.action, entry.actor, entry.runId, entry.details])).toEqual([
      ["run_cancelled", "bob", first.id, { reason: "superseded" }],
      ["run_interrupted", "bob", second.id, { reason: "pause" }],
      ["session_cancelled", "bob", undefined, { reason: "leaked [REDACTED]" }],
    ]);
    const exported = (await collect(trail.exportJsonl())).join("");
    expect(exported).not.toContain(secret);
  });

  it("an approval decided twice is one entry, naming who decided first", async () => {
    const { trail, store, manager } = await setup();
    const session = await manager.startSession({ agentId: "a" });
    const gate = new ApprovalGate(store);
    const request = await gate.request({ sessionId: session.id }, { toolName: "Bash", policyName: "p" });
    await gate.approve(session.id, request.approvalId, { by: "carol", note: "looks fine" });
    const second = await gate.deny(session.id, request.approvalId, { by: "dave" });
    expect(second.decidedNow).toBe(false);
    const decisions = await trail.query({ actions: ["approval_decided"] });
    expect(decisions.map(({ actor, sessionId, details }) => ({ actor, sessionId, details }))).toEqual([
      {
        actor: "carol",
        sessionId: session.id,
        details: {
          decision: "granted",
          toolName: "Bash",
          approvalId: request.approvalId,
          note: "looks fine",
        },
      },
    ]);
  });

  it("queries by session, actor, time and cursor; exports every match as JSON Lines", async () => {
    const { trail, manager } = await setup();
    const one = await withActor("alice", () => manager.runOnce("x"));
    const two = await withActor("bob", () => manager.runOnce("y"));
    expect((await trail.query({ sessionId: two.sessionId })).map((entry) => entry.action)).toEqual([
      "session_created",
      "run_submitted",
      "session_completed",
    ]);
    expect(new Set((await trail.query({ actor: "alice" })).map((entry) => entry.sessionId))).toEqual(
      new Set([one.sessionId]),
    );
    const all = await trail.query();
    const page = await trail.query({ after: 2, limit: 2 });
    expect(page).toEqual(all.slice(2, 4));
    expect(await trail.query({ until: all[0]?.at })).toEqual([]);
    expect(await trail.query({ since: all.at(-1)?.at, sessionId: two.sessionId })).toContainEqual(all.at(-1));

    const lines = await collect(trail.exportJsonl({ actions: ["session_completed"] }));
    expect(lines.map((line) => JSON.parse(line))).toEqual(
      all.filter((entry) => entry.action === "session_completed"),
    );
    expect(lines.every((line) => line.endsWith("\n"))).toBe(true);
  });

  it("runs submitted to a SessionServer over the wrapped store, as the submitter", async () => {
    const { trail, manager } = await setup();
    const server = await withActor("svc", () =>
      SessionServer.start({ manager, session: { agentId: "srv" } }),
    );
    const runId = await withActor("erin", () => server.submitRun("queued work"));
    await server.awaitRun(runId);
    await server.close();
    const submitted = await trail.query({ actions: ["run_submitted"] });
    expect(submitted.map(({ actor, runId: id, sessionId }) => ({ actor, id, sessionId }))).toEqual([
      { actor: "erin", id: runId, sessionId: server.sessionId },
    ]);
    expect((await trail.query({ actions: ["session_created"] }))[0]).toMatchObject({
      actor: "svc",
      details: { agentId: "srv" },
    });
  });

  it("recording the same fact twice stores one entry", async () => {
    const { trail } = await setup();
    await trail.record({ id: "aud_same", action: "maintenance_executed", details: { n: 1 } });
    await trail.record({ id: "aud_same", action: "maintenance_executed", details: { n: 2 } });
    expect((await trail.query()).map((entry) => entry.details)).toEqual([{ n: 1 }]);
  });

  it("a store failure goes to onError; the audited operation stands", async () => {
    const errors: string[] = [];
    const broken: AuditStore = {
      append: async () => {
        throw new Error("disk full");
      },
      query: async () => [],
      close: async () => {},
    };
    const trail = new AuditTrail(broken, {
      onError: (error) => errors.push(`${error.code}: ${error.message}`),
    });
    const manager = new SessionManager({
      store: trail.wrapStore(new MemorySessionStore()),
      adapter: new ScriptedAdapter(async () => ({ output: { content: "ok" } })),
    });
    const result = await manager.runOnce("x");
    expect(result.output.content).toBe("ok");
    expect(errors).toEqual([
      "storage_error: disk full",
      "storage_error: disk full",
      "storage_error: disk full",
    ]);
  });
});

describe("AuditTrail with SQLite stores", () => {
  it("maintenance is recorded with its report, and the trail outlives the sessions it deleted", async () => {
    const dir = await tempDir();
    const sessions = await openSqliteStore({ path: join(dir, "asm.db"), autoMigrate: true });
    // The trail in the session store's own file, a table beside the log.
    const auditStore = SqliteAuditStore.open({ path: join(dir, "asm.db") });
    closers.push(
      () => auditStore.close(),
      () => sessions.close(),
    );
    const trail = new AuditTrail(auditStore, { actor: "ops" });
    const store = trail.wrapStore(sessions);
    const manager = new SessionManager({
      store,
      adapter: new ScriptedAdapter(async () => ({ output: { content: "ok" } })),
    });
    const run = await manager.runOnce("x");

    const report = await store.maintenance.applyRetention({
      maxAgeDays: { completed: 0 },
      hardDeleteAfterDays: 0,
    });
    await store.deleteSession(run.sessionId);
    await expect(store.getSession(run.sessionId)).rejects.toMatchObject({ code: "session_not_found" });

    const [maintenance] = await trail.query({ actions: ["maintenance_executed"] });
    expect(maintenance).toMatchObject({
      actor: "ops",
      details: {
        operation: "apply_retention",
        policy: { maxAgeDays: { completed: 0 }, hardDeleteAfterDays: 0 },
        report: {
          sessionsSoftDeleted: report.sessionsSoftDeleted,
          sessionsHardDeleted: report.sessionsHardDeleted,
        },
      },
    });
    expect((await trail.query({ sessionId: run.sessionId })).map((entry) => entry.action)).toEqual([
      "session_created",
      "run_submitted",
      "session_completed",
    ]);
    // The durable store's other members pass through.
    expect(typeof store.query.searchSessions).toBe("function");
  });

  it("entries survive a reopen; a new file is owner-only", async () => {
    const path = join(await tempDir(), "nested", "audit.db");
    const first = SqliteAuditStore.open({ path });
    await new AuditTrail(first).record({ action: "maintenance_executed", actor: "ops", details: { a: 1 } });
    await first.close();
    expect(statSync(path).mode & 0o777).toBe(0o600);
    const reopened = SqliteAuditStore.open({ path });
    closers.push(() => reopened.close());
    expect(await reopened.query()).toEqual([
      expect.objectContaining({
        sequence: 1,
        action: "maintenance_executed",
        actor: "ops",
        details: { a: 1 },
      }),
    ]);
  });
});

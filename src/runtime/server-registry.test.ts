import { describe, expect, it } from "vitest";
import { SessionManager } from "../session-manager.js";
import { MemorySessionStore } from "../stores/memory/index.js";
import { expectCode } from "../stores/test-support/fixtures.js";
import { until } from "../testing/wait.js";
import { SessionServerRegistry } from "./server-registry.js";
import { GatedAdapter } from "./test-support/gated-adapter.js";

function setup() {
  const store = new MemorySessionStore();
  const adapter = new GatedAdapter();
  const manager = new SessionManager({ store, adapter });
  const activeSession = async () => {
    const session = await manager.startSession({ agentId: "agent" });
    return session.id;
  };
  return { store, adapter, manager, activeSession };
}

describe("SessionServerRegistry", () => {
  it("gets one server per session, starting it on the existing session once", async () => {
    const { manager, activeSession } = setup();
    const registry = new SessionServerRegistry({ manager, serverOptions: { maxConcurrentRuns: 2 } });
    const sessionId = await activeSession();
    const [first, second] = await Promise.all([registry.get(sessionId), registry.get(sessionId)]);
    expect(first).toBe(second);
    expect(first?.maxConcurrentRuns).toBe(2);
    expect(registry.lookup(sessionId)).toBe(first);
    expect((await manager.store.getSession(sessionId)).status).toBe("active");

    const created = await registry.create({ agentId: "other" });
    expect(registry.sessionIds().sort()).toEqual([sessionId, created.sessionId].sort());
    expect(await registry.get(created.sessionId)).toBe(created);
    await expectCode(registry.get("ses_missing"), "session_not_found");
    expect(registry.lookup("ses_missing")).toBeUndefined();
    await registry.closeAll();
  });

  it("closes a server once it stayed idle, keeps a busy one, and starts a new one on the next get", async () => {
    const { manager, adapter, activeSession } = setup();
    const registry = new SessionServerRegistry({ manager, idleTimeoutMs: 20 });
    const busy = await registry.get(await activeSession());
    const runId = await busy.submitRun("long");
    const idleId = await activeSession();
    const idle = await registry.get(idleId);

    await until(() => idle.closed, "the idle server closed");
    expect(registry.lookup(idleId)).toBeUndefined();
    // The busy server's timer was disarmed while its run goes on.
    expect(busy.closed).toBe(false);
    expect(registry.lookup(busy.sessionId)).toBe(busy);

    adapter.release("long");
    await busy.awaitRun(runId);
    await until(() => busy.closed, "the server closed once idle");

    const again = await registry.get(idleId);
    expect(again).not.toBe(idle);
    expect(again.closed).toBe(false);
    await registry.closeAll();
  });

  it("forgets a server closed by its user, and closes every server on closeAll", async () => {
    const { manager, activeSession } = setup();
    const registry = new SessionServerRegistry({ manager, idleTimeoutMs: Number.POSITIVE_INFINITY });
    const sessionId = await activeSession();
    const server = await registry.get(sessionId);
    await server.close();
    expect(registry.lookup(sessionId)).toBeUndefined();
    const replacement = await registry.get(sessionId);
    expect(replacement).not.toBe(server);

    const other = await registry.create({ agentId: "b" });
    await registry.closeAll();
    await registry.closeAll();
    expect(replacement.closed).toBe(true);
    expect(other.closed).toBe(true);
    expect(registry.sessionIds()).toEqual([]);
    await expectCode(registry.get(sessionId), "invalid_operation");
    expect(() => new SessionServerRegistry({ manager, idleTimeoutMs: 0 })).toThrow(/idleTimeoutMs/);
  });
});

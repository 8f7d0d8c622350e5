import { EventEmitter } from "node:events";
import { setTimeout as sleep } from "node:timers/promises";
import { describe, expect, it } from "vitest";
import { ChannelListener, type ListenerClient } from "./listener.js";

/** A pg client stand-in: connects (or fails to) when told, and can be "killed" like a backend. */
class FakeClient extends EventEmitter implements ListenerClient {
  readonly queries: string[] = [];
  ended = false;
  constructor(readonly failConnect: boolean) {
    super();
  }
  async connect(): Promise<void> {
    if (this.failConnect) throw new Error("connect ECONNREFUSED 127.0.0.1:5432");
  }
  async query(sql: string): Promise<unknown> {
    this.queries.push(sql);
    return {};
  }
  async end(): Promise<void> {
    this.ended = true;
  }
  /** What pg does when the server terminates the connection. */
  kill(): void {
    this.emit("error", new Error("terminating connection due to administrator command"));
    this.emit("end");
  }
}

function harness({ failures = 0 } = {}) {
  const clients: FakeClient[] = [];
  const payloads: string[] = [];
  let listening = 0;
  let failuresLeft = failures;
  const listener = new ChannelListener({
    createClient: () => {
      const client = new FakeClient(failuresLeft > 0);
      failuresLeft -= 1;
      clients.push(client);
      return client;
    },
    listenSql: 'LISTEN "asm_events_test"',
    onNotification: (payload) => payloads.push(payload),
    onListening: () => {
      listening += 1;
    },
    minRetryDelayMs: 5,
    maxRetryDelayMs: 40,
  });
  return { listener, clients, payloads, listening: () => listening };
}

async function until(condition: () => boolean): Promise<void> {
  for (let waited = 0; !condition(); waited += 5) {
    if (waited > 5000) throw new Error("condition not reached");
    await sleep(5);
  }
}

describe("ChannelListener", () => {
  it("connects on the first retain only, and stays connected between long-polls", async () => {
    const { listener, clients, listening } = harness();
    expect(clients).toHaveLength(0);
    listener.retain();
    listener.retain();
    await until(() => listening() === 1);
    expect(clients).toHaveLength(1);
    expect(clients[0]?.queries).toEqual(['LISTEN "asm_events_test"']);
    listener.release();
    listener.release();
    listener.retain();
    await sleep(20);
    expect(clients).toHaveLength(1);
    expect(listening()).toBe(1);
    await listener.close();
    expect(clients[0]?.ended).toBe(true);
  });

  it("passes on notifications of the live connection only", async () => {
    const { listener, clients, payloads, listening } = harness();
    listener.retain();
    await until(() => listening() === 1);
    clients[0]?.emit("notification", { payload: "origin:ses_1" });
    clients[0]?.kill();
    clients[0]?.emit("notification", { payload: "origin:ses_late" });
    expect(payloads).toEqual(["origin:ses_1"]);
    await listener.close();
  });

  it("reconnects after the connection drops and reports each new LISTEN, so waiters re-read", async () => {
    const { listener, clients, listening } = harness();
    listener.retain();
    await until(() => listening() === 1);
    clients[0]?.kill();
    expect(listener.listening).toBe(false);
    await until(() => listening() === 2);
    expect(clients).toHaveLength(2);
    expect(clients[0]?.ended).toBe(true);
    expect(listener.listening).toBe(true);
    await listener.close();
  });

  it("retries a failing connection with growing delays until it succeeds", async () => {
    const { listener, clients, listening } = harness({ failures: 4 });
    const started = performance.now();
    listener.retain();
    await until(() => listening() === 1);
    // 5 + 10 + 20 + 40 ms of back-off before the fifth attempt.
    expect(performance.now() - started).toBeGreaterThanOrEqual(70);
    expect(clients).toHaveLength(5);
    expect(clients.slice(0, 4).every((client) => client.ended)).toBe(true);
    await listener.close();
  });

  it("stops retrying when nobody waits, and reconnects on the next retain", async () => {
    const { listener, clients, listening } = harness();
    listener.retain();
    await until(() => listening() === 1);
    listener.release();
    clients[0]?.kill();
    await sleep(50);
    expect(clients).toHaveLength(1);
    listener.retain();
    await until(() => listening() === 2);
    await listener.close();
  });

  it("after close, neither connects nor retries", async () => {
    const { listener, clients, listening } = harness({ failures: 1 });
    listener.retain();
    await listener.close();
    await sleep(50);
    expect(listening()).toBe(0);
    expect(clients.length).toBeLessThanOrEqual(1);
    listener.retain();
    await sleep(20);
    expect(clients.length).toBeLessThanOrEqual(1);
  });
});

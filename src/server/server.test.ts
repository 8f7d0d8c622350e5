import { request as httpRequest, type IncomingMessage } from "node:http";
import { afterEach, describe, expect, it } from "vitest";
import { AsmApiError, AsmClient } from "../client/index.js";
import { ERROR_CODES_BY_CATEGORY } from "../core/errors.js";
import type { AsmEvent } from "../core/events.js";
import { ApprovalGate } from "../policy/approvals.js";
import { until } from "../testing/wait.js";
import { HTTP_STATUS_BY_CODE } from "./errors-to-http.js";
import { startApiServer } from "./serve.js";
import { type Harness, startHarness, TEST_TOKEN } from "./test-support/harness.js";

let harness: Harness | undefined;
afterEach(async () => {
  await harness?.stop();
  harness = undefined;
});

async function start(options: Parameters<typeof startHarness>[0] = {}) {
  harness = await startHarness(options);
  const client = new AsmClient({ baseUrl: harness.server.url, token: TEST_TOKEN });
  return { ...harness, client };
}

const auth = { authorization: `Bearer ${TEST_TOKEN}` };

async function json(response: Response): Promise<Record<string, unknown>> {
  return (await response.json()) as Record<string, unknown>;
}

/** Reads an SSE response's raw text until `done(text)` or the end of the stream. */
async function readSse(response: Response, done: (text: string) => boolean = () => false): Promise<string> {
  const reader = response.body?.pipeThrough(new TextDecoderStream()).getReader();
  if (!reader) throw new Error("no body");
  let text = "";
  for (;;) {
    const { done: ended, value } = await reader.read();
    if (ended) return text;
    text += value;
    if (done(text)) {
      await reader.cancel();
      return text;
    }
  }
}

const ids = (text: string) => [...text.matchAll(/^id: (\d+)$/gm)].map((match) => Number(match[1]));

describe("security", () => {
  it("refuses to start without a token on a non-loopback address, even with --dev", async () => {
    const { manager } = await start();
    await expect(startApiServer({ manager, host: "0.0.0.0", port: 0, dev: true })).rejects.toMatchObject({
      code: "invalid_operation",
      message: "refusing to serve on 0.0.0.0 without a token",
    });
    await expect(startApiServer({ manager, host: "127.0.0.1", port: 0 })).rejects.toMatchObject({
      code: "invalid_operation",
      message: "a token is required",
    });
    await expect(startApiServer({ manager, port: 0, token: "short" })).rejects.toMatchObject({
      code: "validation_error",
    });
  });

  it("answers 401 without a token or with a wrong one, and serves with the right one", async () => {
    const { server } = await start();
    const missing = await fetch(`${server.url}/api/v1/sessions`);
    expect(missing.status).toBe(401);
    expect(missing.headers.get("www-authenticate")).toBe('Bearer realm="asm"');
    expect(await json(missing)).toMatchObject({
      code: "unauthorized",
      message: "a bearer token is required",
    });
    const wrong = await fetch(`${server.url}/api/v1/sessions`, { headers: { authorization: "Bearer nope" } });
    expect(wrong.status).toBe(401);
    expect(await json(wrong)).toMatchObject({ code: "unauthorized", message: "the bearer token is wrong" });
    const openapi = await fetch(`${server.url}/openapi.json`);
    expect(openapi.status).toBe(401);
    const right = await fetch(`${server.url}/api/v1/sessions`, { headers: auth });
    expect(right.status).toBe(200);
    expect(await json(right)).toEqual({ items: [] });
    // Probes stay open: an orchestrator checks them without the token.
    expect(await json(await fetch(`${server.url}/healthz`))).toEqual({ status: "ok" });
    expect(await json(await fetch(`${server.url}/readyz`))).toMatchObject({ status: "ready" });
  });

  it("a loopback --dev server serves without a token; a token given there is still required", async () => {
    const { manager } = await start();
    const dev = await startApiServer({ manager, port: 0, dev: true });
    try {
      const response = await fetch(`${dev.url}/api/v1/sessions`);
      expect(response.status).toBe(200);
    } finally {
      await dev.close();
    }
    const devWithToken = await startApiServer({ manager, port: 0, dev: true, token: TEST_TOKEN });
    try {
      expect((await fetch(`${devWithToken.url}/api/v1/sessions`)).status).toBe(401);
    } finally {
      await devWithToken.close();
    }
  });

  it("refuses an oversized body with 413, malformed JSON and unknown fields with 400", async () => {
    const { server } = await start({ maxBodyBytes: 1024 });
    const big = await fetch(`${server.url}/api/v1/sessions`, {
      method: "POST",
      headers: { ...auth, "content-type": "application/json" },
      body: JSON.stringify({ agentId: "a", metadata: { blob: "x".repeat(4096) } }),
    });
    expect(big.status).toBe(413);
    expect(await json(big)).toMatchObject({ code: "payload_too_large", details: { limitBytes: 1024 } });
    const malformed = await fetch(`${server.url}/api/v1/sessions`, {
      method: "POST",
      headers: { ...auth, "content-type": "application/json" },
      body: "{not json",
    });
    expect(malformed.status).toBe(400);
    expect(await json(malformed)).toMatchObject({
      code: "validation_error",
      message: "the body is not valid JSON",
    });
    const unknown = await fetch(`${server.url}/api/v1/sessions`, {
      method: "POST",
      headers: { ...auth, "content-type": "application/json" },
      body: JSON.stringify({ agentId: "a", admin: true }),
    });
    expect(unknown.status).toBe(400);
    expect(await json(unknown)).toMatchObject({
      code: "validation_error",
      details: { issues: [{ path: "" }] },
    });
  });

  it("refuses malformed ids with 400 before any store read, unknown ones with 404", async () => {
    const { server } = await start();
    for (const bad of ["..%2F..%2Fetc%2Fpasswd", "a%20b", "%2e%2e%2F", "x".repeat(129)]) {
      const response = await fetch(`${server.url}/api/v1/sessions/${bad}`, { headers: auth });
      expect(response.status, bad).toBe(400);
      expect(await json(response)).toMatchObject({
        code: "validation_error",
        details: { issues: [{ path: "sessionId" }] },
      });
    }
    const missing = await fetch(`${server.url}/api/v1/sessions/ses_missing`, { headers: auth });
    expect(missing.status).toBe(404);
    expect(await json(missing)).toMatchObject({ code: "session_not_found" });
    const route = await fetch(`${server.url}/api/v1/nothing`, { headers: auth });
    expect(route.status).toBe(404);
    expect(await json(route)).toMatchObject({ code: "not_found" });
  });

  it("refuses a bogus Last-Event-ID and a cursor past the log's end with 400 invalid_cursor", async () => {
    const { server, client } = await start();
    const session = await client.createSession({ agentId: "a" });
    const url = `${server.url}/api/v1/sessions/${session.id}/events/stream`;
    for (const bogus of ["abc", "-1", "1e3", "12 13"]) {
      const response = await fetch(url, { headers: { ...auth, "last-event-id": bogus } });
      expect(response.status, bogus).toBe(400);
      expect(await json(response)).toMatchObject({ code: "invalid_cursor" });
    }
    const past = await fetch(url, { headers: { ...auth, "last-event-id": "999" } });
    expect(past.status).toBe(400);
    expect(await json(past)).toMatchObject({ code: "invalid_cursor", details: { after: 999 } });
    await expect(client.getEvents(session.id, { after: 999 })).rejects.toMatchObject({
      status: 400,
      code: "invalid_cursor",
    });
  });

  it("keeps CORS off unless origins are configured", async () => {
    const { server, manager } = await start();
    const plain = await fetch(`${server.url}/api/v1/sessions`, {
      headers: { ...auth, origin: "http://evil.test" },
    });
    expect(plain.headers.get("access-control-allow-origin")).toBeNull();
    const withCors = await startApiServer({
      manager,
      port: 0,
      token: TEST_TOKEN,
      corsOrigins: ["http://ui.test"],
    });
    try {
      const allowed = await fetch(`${withCors.url}/api/v1/sessions`, {
        headers: { ...auth, origin: "http://ui.test" },
      });
      expect(allowed.headers.get("access-control-allow-origin")).toBe("http://ui.test");
      const other = await fetch(`${withCors.url}/api/v1/sessions`, {
        headers: { ...auth, origin: "http://evil.test" },
      });
      expect(other.headers.get("access-control-allow-origin")).toBeNull();
    } finally {
      await withCors.close();
    }
  });
});

describe("sessions, runs and events", () => {
  it("creates a session, queues runs through its SessionServer, long-polls them and pages the log", async () => {
    const { client, adapter } = await start();
    const session = await client.createSession({ agentId: "agent-1", tags: ["api"] });
    expect(session).toMatchObject({ agentId: "agent-1", status: "active", tags: ["api"] });

    const first = await client.submitRun(session.id, { input: "one" });
    const second = await client.submitRun(session.id, { input: { prompt: "two" } });
    expect(first.run).toMatchObject({ id: first.runId, status: "pending", sessionId: session.id });
    await until(() => adapter.started.length === 1, "the first run started");
    const detail = await client.getSession(session.id);
    expect(detail.server).toMatchObject({ inFlightRuns: [first.runId], queuedRuns: [second.runId] });

    const waited = await client.awaitRun(session.id, first.runId, { timeoutMs: 50 });
    expect(waited).toMatchObject({ done: false, run: { status: "running" } });
    adapter.release("one");
    adapter.release("two");
    const done = await client.awaitRun(session.id, second.runId, { timeoutMs: 60_000 });
    expect(done).toMatchObject({ done: true, run: { status: "completed", output: { content: "done two" } } });
    expect(adapter.started).toEqual(["one", "two"]);

    const all = await client.getEvents(session.id, { limit: 1000 });
    expect(all.items.map((event) => event.sequence)).toEqual(all.items.map((_, index) => index + 1));
    const page1 = await client.getEvents(session.id, { limit: 3 });
    const page2 = await client.getEvents(session.id, { after: page1.cursor, limit: 3 });
    expect([...page1.items, ...page2.items]).toEqual(all.items.slice(0, 6));
    const deltas = await client.getEvents(session.id, { types: ["message_streamed"], runId: first.runId });
    expect(deltas.items.map((event) => (event.data as { delta: string }).delta)).toEqual(["one:0"]);

    const stats = await client.getSession(session.id);
    expect(stats.stats).toMatchObject({ runCount: 2, eventCount: all.items.length });
    expect(stats.stats.tokenUsage).toMatchObject({ inputTokens: 6, outputTokens: 4 });
    const usage = await client.sessionUsage(session.id);
    expect(usage).toMatchObject({ runCount: 2, tokenUsage: { inputTokens: 6, outputTokens: 4 } });
    const listed = await client.listSessions({ status: ["active"], tags: ["api"] });
    expect(listed.items.map((item) => item.id)).toEqual([session.id]);
    expect((await client.listRuns(session.id)).items.map((run) => run.id)).toEqual([
      first.runId,
      second.runId,
    ]);

    await client.completeSession(session.id);
    await expect(client.submitRun(session.id, { input: "late" })).rejects.toMatchObject({ status: 409 });
  });

  it("answers a long-poll page when an event arrives", async () => {
    const { client, adapter } = await start();
    const session = await client.createSession({ agentId: "a" });
    const latest = (await client.getEvents(session.id)).cursor;
    const poll = client.getEvents(session.id, {
      after: latest,
      waitTimeoutMs: 60_000,
      types: ["run_started"],
    });
    const { runId } = await client.submitRun(session.id, { input: "go" });
    const page = await poll;
    expect(page.items).toHaveLength(1);
    expect(page.items[0]).toMatchObject({ type: "run_started", runId });
    adapter.release("go");
  });

  it("cancels a running and a queued run, refuses a run of another session, and cancels the session", async () => {
    const { client, adapter } = await start();
    const session = await client.createSession({ agentId: "a" });
    const other = await client.createSession({ agentId: "b" });
    const running = await client.submitRun(session.id, { input: "r" });
    const queued = await client.submitRun(session.id, { input: "q" });
    await until(() => adapter.started.includes("r"), "r started");
    await expect(client.getRun(other.id, running.runId)).rejects.toMatchObject({
      status: 404,
      code: "run_not_found",
    });
    expect(await client.cancelRun(session.id, queued.runId, "not needed")).toMatchObject({
      status: "cancelled",
    });
    expect(await client.interruptRun(session.id, running.runId)).toMatchObject({ status: "cancelled" });
    expect((await client.awaitRun(session.id, running.runId)).run.status).toBe("cancelled");
    expect(await client.cancelSession(other.id, "done with it")).toMatchObject({ status: "cancelled" });
  });

  it("refuses a provider the server does not run, and workspaces outside its roots", async () => {
    const { client } = await start();
    const session = await client.createSession({ agentId: "a" });
    await expect(client.submitRun(session.id, { input: "x", provider: "codex" })).rejects.toMatchObject({
      status: 404,
      code: "provider_not_found",
    });
    await expect(
      client.submitRun(session.id, { input: "x", workspace: { path: "/etc" } }),
    ).rejects.toMatchObject({
      status: 400,
      code: "validation_error",
      message: "workspace.path is not accepted: the server has no workspace root",
    });
  });

  it("lists, approves and denies pending approvals", async () => {
    const { client, store } = await start();
    const session = await client.createSession({ agentId: "a" });
    const gate = new ApprovalGate(store);
    const first = await gate.request({ sessionId: session.id }, { toolName: "Bash", policyName: "p" });
    const second = await gate.request({ sessionId: session.id }, { toolName: "Write", policyName: "p" });
    const pending = await client.pendingApprovals(session.id);
    expect(pending.items.map((item) => item.approvalId)).toEqual([first.approvalId, second.approvalId]);
    const granted = await client.approve(session.id, first.approvalId, { by: "alice" });
    expect(granted).toMatchObject({ decidedNow: true, decision: { status: "granted", by: "alice" } });
    const denied = await client.deny(session.id, second.approvalId, { reason: "no writes" });
    expect(denied).toMatchObject({ decidedNow: true, decision: { status: "denied", reason: "no writes" } });
    const again = await client.approve(session.id, second.approvalId);
    expect(again).toMatchObject({ decidedNow: false, decision: { status: "denied" } });
    expect((await client.pendingApprovals(session.id)).items).toEqual([]);
    await expect(client.approve(session.id, "apr_unknown")).rejects.toMatchObject({ status: 404 });
  });

  it("serves an OpenAPI document generated from the route schemas", async () => {
    const { server } = await start();
    const document = (await json(await fetch(`${server.url}/openapi.json`, { headers: auth }))) as {
      openapi: string;
      paths: Record<
        string,
        Record<string, { parameters: { name: string; in: string }[]; requestBody?: unknown }>
      >;
    };
    expect(document.openapi).toBe("3.1.0");
    const events = document.paths["/api/v1/sessions/{sessionId}/events"]?.get;
    expect(events?.parameters.map((p) => `${p.in}:${p.name}`)).toEqual([
      "path:sessionId",
      "query:after",
      "query:limit",
      "query:types",
      "query:runId",
      "query:waitTimeoutMs",
    ]);
    expect(document.paths["/api/v1/sessions/{sessionId}/runs"]?.post?.requestBody).toMatchObject({
      content: { "application/json": { schema: { type: "object", required: ["input"] } } },
    });
  });

  it("maps every error code of the taxonomy to a status", () => {
    for (const code of Object.values(ERROR_CODES_BY_CATEGORY).flat()) {
      expect(HTTP_STATUS_BY_CODE[code], code).toBeGreaterThanOrEqual(400);
    }
  });
});

describe("SSE", () => {
  it("sends every event with its sequence as id, resumes exactly after Last-Event-ID or ?after=, and ends with the session", async () => {
    const { client, server, adapter } = await start();
    const session = await client.createSession({ agentId: "a" });
    const { runId } = await client.submitRun(session.id, { input: "s" });
    adapter.release("s");
    await client.awaitRun(session.id, runId);
    const latest = (await client.getEvents(session.id, { limit: 1000 })).cursor;
    const url = `${server.url}/api/v1/sessions/${session.id}/events/stream`;

    const full = await readSse(await fetch(url, { headers: auth }), (text) => ids(text).at(-1) === latest);
    expect(ids(full)).toEqual(Array.from({ length: latest }, (_, index) => index + 1));
    expect(full).toMatch(/^retry: 1000\n\n/);
    expect(full).toContain(`id: 1\nevent: session_created\ndata: {`);

    const resumed = await fetch(url, { headers: { ...auth, "last-event-id": "3" } });
    expect(ids(await readSse(resumed, (text) => ids(text).at(-1) === latest))[0]).toBe(4);
    // The header wins over ?after=, as a reconnecting EventSource keeps its first URL.
    const both = await fetch(`${url}?after=1`, { headers: { ...auth, "last-event-id": "5" } });
    expect(ids(await readSse(both, (text) => ids(text).at(-1) === latest))[0]).toBe(6);

    const live = fetch(`${url}?after=${latest}`, { headers: auth }).then((response) => readSse(response));
    await until(() => server.api.streams.count === 1, "the live stream open");
    await client.completeSession(session.id);
    const tail = await live;
    expect(ids(tail)).toEqual([latest + 1]);
    expect(tail).toContain("event: session_completed");
    expect(tail.endsWith(": session ended\n\n")).toBe(true);

    // Ended, and nothing after the cursor: 204, which tells an EventSource to stop.
    const ended = await fetch(`${url}?after=${latest + 1}`, { headers: auth });
    expect(ended.status).toBe(204);
  });

  it("filters by type and run, and sends heartbeats as comments", async () => {
    const { client, server, adapter } = await start({ streams: { heartbeatMs: 20 } });
    const session = await client.createSession({ agentId: "a" });
    const { runId } = await client.submitRun(session.id, { input: "h" });
    const response = await fetch(
      `${server.url}/api/v1/sessions/${session.id}/events/stream?types=message_streamed,run_completed&runId=${runId}`,
      { headers: auth },
    );
    const text = readSse(
      response,
      (sofar) => sofar.includes("event: run_completed") && sofar.includes(": heartbeat"),
    );
    await until(() => adapter.started.includes("h"), "the run started");
    adapter.release("h");
    const body = await text;
    expect([...body.matchAll(/^event: (\w+)$/gm)].map((match) => match[1])).toEqual([
      "message_streamed",
      "run_completed",
    ]);
    expect(body).toContain(": heartbeat\n\n");
  });

  it("disconnects a client that stops reading once its buffer is full, without holding up the others", async () => {
    const { client, server, adapter } = await start({
      deltas: 200,
      perTick: 10,
      streams: { maxBufferedBytes: 16_384, slowClientTimeoutMs: 2000 },
    });
    const session = await client.createSession({ agentId: "a" });
    const streamUrl = new URL(`${server.url}/api/v1/sessions/${session.id}/events/stream`);
    // A reader that takes the headers and then never reads a byte.
    const slow = await new Promise<IncomingMessage>((resolve, reject) => {
      const req = httpRequest(streamUrl, { headers: auth }, (res) => {
        res.pause();
        resolve(res);
      });
      req.on("error", reject);
      req.end();
    });
    const slowClosed = new Promise<void>((resolve) => slow.once("close", () => resolve()));
    slow.on("error", () => undefined);
    const fast: AsmEvent[] = [];
    const fastDone = (async () => {
      for await (const event of client.events(session.id)) {
        fast.push(event);
        if (event.type === "run_completed") return;
      }
    })();
    await until(() => server.api.streams.count === 2, "both streams open");
    // 200 deltas of ~40 KB: far more than the socket buffers and the 16 KB bound.
    const prompt = "x".repeat(40_000);
    const { runId } = await client.submitRun(session.id, { input: prompt });
    adapter.release(prompt);
    await fastDone;
    await until(() => server.api.streams.count === 0, "the slow stream dropped");
    const sequences = fast.map((event) => event.sequence);
    expect(sequences).toEqual(Array.from({ length: sequences.length }, (_, index) => index + 1));
    expect(fast.filter((event) => event.runId === runId && event.type === "message_streamed")).toHaveLength(
      200,
    );

    // The slow client gets what was in flight, then the end; it resumes after its last id.
    let slowText = "";
    slow.setEncoding("utf8");
    slow.on("data", (chunk: string) => {
      slowText += chunk;
    });
    slow.resume();
    await slowClosed;
    const got = ids(slowText);
    const last = got.at(-1) ?? 0;
    expect(got).toEqual(Array.from({ length: last }, (_, index) => index + 1));
    expect(last).toBeLessThan(sequences.length);
    const latest = sequences.at(-1) ?? 0;
    const resumed = await fetch(streamUrl, { headers: { ...auth, "last-event-id": String(last) } });
    const rest = ids(await readSse(resumed, (text) => ids(text).at(-1) === latest));
    expect(rest).toEqual(Array.from({ length: latest - last }, (_, index) => last + 1 + index));
  });

  it("ends every stream with a final comment on shutdown", async () => {
    const { client, server } = await start();
    const session = await client.createSession({ agentId: "a" });
    const response = await fetch(`${server.url}/api/v1/sessions/${session.id}/events/stream`, {
      headers: auth,
    });
    const text = readSse(response);
    await until(() => server.api.streams.count === 1, "the stream open");
    await server.close();
    expect((await text).endsWith(": server shutting down\n\n")).toBe(true);
    expect(await fetch(`${server.url}/healthz`).catch((error: Error) => error.message)).toBe("fetch failed");
  });
});

describe("client", () => {
  it("resumes the SSE iteration with Last-Event-ID across cut connections: no gap, no duplicate", async () => {
    const { startCuttingProxy } = await import("./test-support/harness.js");
    const { client: direct, server, adapter } = await start({ deltas: 400, perTick: 5 });
    const proxy = await startCuttingProxy(server.port);
    try {
      const client = new AsmClient({ baseUrl: proxy.url, token: TEST_TOKEN });
      const session = await direct.createSession({ agentId: "a" });
      const received: AsmEvent[] = [];
      const reconnects: number[] = [];
      const iteration = (async () => {
        for await (const event of client.events(session.id, {
          reconnectDelayMs: 10,
          onReconnect: ({ after }) => reconnects.push(after),
        })) {
          received.push(event);
        }
      })();
      await until(() => server.api.streams.count === 1, "the stream open");
      const { runId } = await direct.submitRun(session.id, { input: "cut" });
      adapter.release("cut");
      // Cut the connection three times while the run streams its 400 deltas.
      for (let cut = 1; cut <= 3; cut += 1) {
        await until(() => received.length >= cut * 100, `event ${cut * 100}`);
        await until(() => proxy.cutAll() > 0 || undefined, "a connection to cut");
      }
      await direct.awaitRun(session.id, runId);
      await direct.completeSession(session.id);
      await iteration;
      const latest = (await direct.getEvents(session.id, { limit: 1000, after: 0 })).items.length;
      expect(reconnects.length).toBeGreaterThanOrEqual(3);
      expect(received.map((event) => event.sequence)).toEqual(
        Array.from({ length: latest }, (_, index) => index + 1),
      );
      expect(received.at(-1)?.type).toBe("session_completed");
    } finally {
      await proxy.close();
    }
  });

  it("reports API errors with status, code and hint, and does not retry a client mistake", async () => {
    const { server } = await start();
    const client = new AsmClient({ baseUrl: server.url, token: "wrong-token-but-long-enough" });
    const error = await client.listSessions().catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(AsmApiError);
    expect(error).toMatchObject({
      status: 401,
      code: "unauthorized",
      hint: expect.stringContaining("Bearer"),
    });
    const good = new AsmClient({ baseUrl: server.url, token: TEST_TOKEN });
    const iteration = good.events("ses_missing")[Symbol.asyncIterator]().next();
    await expect(iteration).rejects.toMatchObject({ status: 404, code: "session_not_found" });
  });
});

describe("workspace paths", () => {
  it("accepts paths inside a root (symlinks resolved) and refuses the rest", async () => {
    const { mkdtemp, mkdir, symlink, rm, realpath } = await import("node:fs/promises");
    const { tmpdir } = await import("node:os");
    const { join } = await import("node:path");
    const { workspacePath } = await import("./routes/runs.js");
    const base = await realpath(await mkdtemp(join(tmpdir(), "asm-roots-")));
    try {
      const root = join(base, "root");
      await mkdir(join(root, "project"), { recursive: true });
      await mkdir(join(base, "outside"));
      await symlink(join(base, "outside"), join(root, "escape"));
      expect(await workspacePath([root], "project")).toBe(join(root, "project"));
      expect(await workspacePath([root], join(root, "project"))).toBe(join(root, "project"));
      for (const [path, why] of [
        ["../outside", "is outside the server's workspace roots"],
        [join(base, "outside"), "is outside the server's workspace roots"],
        ["escape", "leads outside the server's workspace roots"],
        ["missing", "does not exist"],
      ] as const) {
        await expect(workspacePath([root], path), path).rejects.toMatchObject({
          code: "validation_error",
          message: `workspace.path ${why}`,
        });
      }
    } finally {
      await rm(base, { recursive: true, force: true });
    }
  });
});

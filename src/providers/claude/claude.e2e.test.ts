import { randomUUID } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { AsmError } from "../../core/errors.js";
import type { AsmEvent } from "../../core/events.js";
import type { PolicyInput } from "../../policy/policy.js";
import { SessionManager } from "../../session-manager.js";
import { openSqliteStore, type SqliteSessionStore } from "../../stores/sqlite/index.js";
import { makeExecuteRequest, RecordingSink } from "../../testing/adapter-conformance.js";
import {
  bundledClaudeBinary,
  claudeMockEnv,
  hasToolResult,
  type MockAnthropicApi,
  type MockReplier,
  offeredToolNames,
  startMockAnthropicApi,
  toolResultText,
} from "../../testing/mock-anthropic-api.js";
import { expectCancelledMidRequest, withoutHostVariables } from "../test-support/e2e-host.js";
import { ClaudeAdapter, type ClaudeAdapterOptions } from "./index.js";

/*
 * The real Claude Code binary (the Agent SDK's platform package, installed with the SDK as a dev
 * dependency) against a loopback mock of the Messages API, through SessionManager into SQLite.
 * Nothing leaves the machine: ANTHROPIC_BASE_URL points at 127.0.0.1, non-essential traffic is
 * off, and the cancel case checks every TCP connection the CLI holds is to loopback.
 */

const CLAUDE = bundledClaudeBinary();
const root = mkdtempSync(path.join(tmpdir(), "asm-claude-e2e-"));
/** Variables from the host that could send the CLI elsewhere or log it in for real. */
const HOST_VARIABLE = /^(ANTHROPIC_|CLAUDE_|AWS_|GOOGLE_|VERTEX)|PROXY/i;

withoutHostVariables(HOST_VARIABLE);
afterAll(() => rmSync(root, { recursive: true, force: true }));

interface Harness {
  api: MockAnthropicApi;
  adapter: ClaudeAdapter;
  manager: SessionManager;
  store: SqliteSessionStore;
  /** Set in the CLI's environment, to find its processes in /proc. */
  marker: string;
}

const open: Harness[] = [];
afterEach(async () => {
  for (const harness of open.splice(0)) {
    await harness.store.close();
    await harness.api.close();
  }
});

async function harness(replier: MockReplier, options: ClaudeAdapterOptions = {}): Promise<Harness> {
  if (CLAUDE === undefined) throw new Error("no claude binary");
  const api = await startMockAnthropicApi(replier);
  const dir = mkdtempSync(path.join(root, "case-"));
  const marker = randomUUID();
  const adapter = new ClaudeAdapter({
    executablePath: CLAUDE,
    cwd: dir,
    killGraceMs: 1000,
    ...options,
    env: {
      ...claudeMockEnv(api.url, dir),
      ASM_E2E_MARKER: marker,
      ...options.env,
    },
  });
  const store = await openSqliteStore({ path: path.join(dir, "asm.db") });
  const created = { api, adapter, manager: new SessionManager({ store, adapter }), store, marker };
  open.push(created);
  return created;
}

async function runEvents(store: SqliteSessionStore, sessionId: string): Promise<AsmEvent[]> {
  return store.getEvents(sessionId, { limit: 1000 });
}

const textReply: MockReplier = () => ({ type: "text", text: "Hello from the mock model" });

describe.skipIf(CLAUDE === undefined)(
  "ClaudeAdapter e2e: real Claude Code, mock Messages API, SQLite",
  () => {
    it("a text answer is stored with Claude's session id, usage and cost", async () => {
      const { api, manager, store } = await harness(textReply);
      const result = await manager.runOnce({ prompt: "Say hello" });
      expect(result.output.content).toBe("Hello from the mock model");
      expect(result.providerSessionId).toMatch(/^[0-9a-f-]{36}$/);
      expect(result.tokenUsage.inputTokens).toBeGreaterThan(0);
      expect(result.costUsd).toBeGreaterThan(0);

      const run = await store.getRun(result.runId);
      expect(run.status).toBe("completed");
      expect(run.providerMetadata.providerSessionId).toBe(result.providerSessionId);
      const events = await runEvents(store, result.sessionId);
      const types = events.map((event) => event.type);
      expect(types.filter((type) => type === "run_completed")).toHaveLength(1);
      expect(types).toEqual(
        expect.arrayContaining([
          "run_started",
          "message_streamed",
          "message_received",
          "token_usage_updated",
        ]),
      );
      const started = events.find((event) => event.type === "run_started");
      expect(started?.data).toMatchObject({ providerSessionId: result.providerSessionId });
      const received = events.filter((event) => event.type === "message_received");
      expect(received.map((event) => event.data.content)).toContain("Hello from the mock model");
      // Every frame the real CLI printed passed the adapter's frame checks.
      expect(
        events.filter((event) => event.type === "error_occurred" && event.data.errorCode === "parse_error"),
      ).toEqual([]);

      const [call] = api.messageRequests();
      expect(call?.url).toMatch(/^\/v1\/messages/);
      expect(JSON.stringify(call?.body)).toContain("Say hello");
    });

    it("a resumed session reports its own cost, though Claude's total covers the whole session", async () => {
      // Every turn answers with the same usage, so every run costs the same.
      const { api, manager, store } = await harness(() => ({
        type: "text",
        text: "Noted",
        inputTokens: 1000,
        outputTokens: 100,
      }));
      const session = await manager.startSession({ agentId: "claude" });
      await manager.activateSession(session.id);
      const first = await manager.executeRun((await manager.startRun(session.id, "Remember X-42")).id);
      // Only the session id is passed: its total before the run comes from the stored runs.
      const second = await manager.executeRun((await manager.startRun(session.id, "What was it?")).id, {
        providerOptions: { claude: { resumeSessionId: first.providerSessionId ?? "" } },
      });
      expect(second.providerSessionId).toBe(first.providerSessionId);
      expect(first.costUsd).toBeGreaterThan(0);
      expect(second.costUsd).toBeCloseTo(first.costUsd ?? 0, 10);
      const [one, two] = await Promise.all([store.getRun(first.runId), store.getRun(second.runId)]);
      // Claude Code restores the session's total on --resume: run 2's total covers both runs.
      expect(one.providerMetadata.providerTotals).toEqual({ costUsd: first.costUsd });
      expect((two.providerMetadata.providerTotals as { costUsd: number }).costUsd).toBeCloseTo(
        2 * (first.costUsd ?? 0),
        10,
      );
      expect(two.metadata.claude).not.toHaveProperty("costNote");
      // The resumed request carried the first turn.
      expect(JSON.stringify(api.messageRequests().at(-1)?.body)).toContain("Remember X-42");
    });

    it("a tool call (Bash echo) runs, pairs started/completed, and its output reaches the model", async () => {
      const replier: MockReplier = (body) =>
        hasToolResult(body)
          ? { type: "text", text: `The tool said: ${toolResultText(body).trim()}` }
          : {
              type: "tool_use",
              name: "Bash",
              input: { command: "echo e2e-tool-ok", description: "Print a marker" },
            };
      const { api, manager, store } = await harness(replier, { allowedTools: ["Bash"] });
      const result = await manager.runOnce({ prompt: "Run echo e2e-tool-ok" });
      expect(result.output.content).toBe("The tool said: e2e-tool-ok");
      expect(result.tokenUsage.outputTokens).toBeGreaterThan(0);

      const events = await runEvents(store, result.sessionId);
      const started = events.filter((event) => event.type === "tool_call_started");
      const completed = events.filter((event) => event.type === "tool_call_completed");
      expect(started).toHaveLength(1);
      expect(completed).toHaveLength(1);
      expect(started[0]?.data).toMatchObject({
        toolName: "Bash",
        toolInput: { command: "echo e2e-tool-ok" },
      });
      expect(completed[0]?.data).toMatchObject({ toolCallId: started[0]?.data.toolCallId, toolName: "Bash" });
      expect(JSON.stringify(completed[0]?.data.toolOutput)).toContain("e2e-tool-ok");
      expect((started[0]?.sequence ?? 0) < (completed[0]?.sequence ?? 0)).toBe(true);
      expect(api.messageRequests().length).toBeGreaterThanOrEqual(2);
      // Every frame the real CLI printed passed the adapter's frame checks.
      expect(
        events.filter((event) => event.type === "error_occurred" && event.data.errorCode === "parse_error"),
      ).toEqual([]);
    });

    it("a policy's tool rules reach Claude Code: the model is offered only the allowed tools, never a denied one", async () => {
      const { api, manager } = await harness(textReply);
      const offered = async (policy: PolicyInput): Promise<{ init: unknown; api: string[] }> => {
        const result = await manager.runOnce({ prompt: "Say hello" }, { policy });
        const started = result.events.find((event) => event.type === "run_started");
        return { init: started?.data.tools, api: offeredToolNames(api.messageRequests().at(-1)?.body) };
      };

      const allowed = await offered({ toolRules: [{ allow: ["Read", "Grep"] }] });
      expect(allowed.init).toEqual(expect.arrayContaining(["Read", "Grep"]));
      expect(allowed.init).toHaveLength(2);
      expect(allowed.api).toEqual(expect.arrayContaining(["Read", "Grep"]));
      expect(allowed.api).not.toContain("Bash");
      expect(allowed.api).not.toContain("Write");

      const denied = await offered({ toolRules: [{ deny: ["Bash"] }] });
      expect(denied.init).toEqual(expect.arrayContaining(["Read", "Edit"]));
      expect(denied.init).not.toContain("Bash");
      expect(denied.api).not.toContain("Bash");
    });

    it("a 401 fails the run with provider_authentication_failed, stored with its provider error", async () => {
      const { api, manager, store } = await harness(() => ({
        type: "error",
        status: 401,
        errorType: "authentication_error",
        message: "invalid x-api-key",
      }));
      const error = await manager.runOnce({ prompt: "Say hello" }).catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(AsmError);
      expect(error).toMatchObject({ code: "provider_authentication_failed" });
      const runId = error instanceof AsmError ? error.details.runId : undefined;
      const run = await store.getRun(String(runId));
      expect(run.status).toBe("failed");
      expect(run.error?.code).toBe("provider_authentication_failed");
      const events = await runEvents(store, run.sessionId);
      const failed = events.filter((event) => event.type === "run_failed");
      expect(failed).toHaveLength(1);
      expect(failed[0]?.data).toMatchObject({ errorCode: "provider_authentication_failed" });
      // Claude Code's label is kept beside the API's own error type.
      expect(run.error?.details).toMatchObject({
        status: 401,
        errorType: "authentication_error",
        providerErrorType: "authentication_error",
      });
      // Every frame the real CLI printed passed the adapter's frame checks.
      expect(
        events.filter((event) => event.type === "error_occurred" && event.data.errorCode === "parse_error"),
      ).toEqual([]);
      expect(api.messageRequests().length).toBeGreaterThanOrEqual(1);
    });

    it("a bad key fails on Claude Code's first retry notice, not after its ten retries", async () => {
      const { api, manager } = await harness(
        () => ({
          type: "error",
          status: 401,
          errorType: "authentication_error",
          message: "invalid x-api-key",
        }),
        // Claude Code's default: ten retries of a 401, minutes of backoff.
        { env: { CLAUDE_CODE_MAX_RETRIES: "10" } },
      );
      const error = await manager.runOnce({ prompt: "Say hello" }).catch((caught: unknown) => caught);
      expect(error).toMatchObject({
        code: "provider_authentication_failed",
        details: { status: 401, errorType: "authentication_failed", stoppedRetrying: true },
      });
      expect(api.messageRequests().length).toBeGreaterThanOrEqual(1);
      expect(api.messageRequests().length).toBeLessThanOrEqual(2);
    });

    it("a 429 with retry-after is provider_rate_limited, retryable, with Claude Code's retry delay", async () => {
      const { api, manager } = await harness(
        () => ({
          type: "error",
          status: 429,
          errorType: "rate_limit_error",
          message: "slow down",
          retryAfterSeconds: 1,
        }),
        { env: { CLAUDE_CODE_MAX_RETRIES: "1" } },
      );
      const error = await manager.runOnce({ prompt: "Say hello" }).catch((caught: unknown) => caught);
      expect(error).toMatchObject({
        code: "provider_rate_limited",
        retryable: true,
        details: { status: 429 },
      });
      // Claude Code waits the API's retry-after (plus its jitter) and says so in its retry notice.
      const { retryAfterMs } = (error as AsmError).details;
      expect(typeof retryAfterMs === "number" && retryAfterMs >= 1000).toBe(true);
      expect(api.messageRequests()).toHaveLength(2);
    });

    it("a 500 is provider_unavailable, retryable, with the status and the API's error type", async () => {
      const { manager } = await harness(() => ({
        type: "error",
        status: 500,
        errorType: "api_error",
        message: "Internal server error",
      }));
      const error = await manager.runOnce({ prompt: "Say hello" }).catch((caught: unknown) => caught);
      expect(error).toMatchObject({
        code: "provider_unavailable",
        retryable: true,
        details: { status: 500, providerErrorType: "api_error" },
      });
    });

    it("a 529 with retry-after (overloaded) is provider_rate_limited, with the API's type and the retry delay", async () => {
      const { manager } = await harness(
        () => ({
          type: "error",
          status: 529,
          errorType: "overloaded_error",
          message: "Overloaded",
          retryAfterSeconds: 1,
        }),
        { env: { CLAUDE_CODE_MAX_RETRIES: "1" } },
      );
      const error = await manager.runOnce({ prompt: "Say hello" }).catch((caught: unknown) => caught);
      expect(error).toMatchObject({
        code: "provider_rate_limited",
        retryable: true,
        details: { status: 529, providerErrorType: "overloaded_error" },
      });
      const { retryAfterMs } = (error as AsmError).details;
      expect(typeof retryAfterMs === "number" && retryAfterMs >= 1000).toBe(true);
    });

    it("a dropped connection is provider_unavailable, retryable", async () => {
      const { manager } = await harness(() => ({ type: "drop" }));
      const error = await manager.runOnce({ prompt: "Say hello" }).catch((caught: unknown) => caught);
      expect(error).toMatchObject({
        code: "provider_unavailable",
        retryable: true,
        details: { providerErrorType: "connection_failed" },
      });
    });

    it("a cancel mid-stream cuts the model stream off and keeps the tokens reported, priced", async () => {
      const { api, manager, store } = await harness(() => ({
        type: "slow",
        chunks: 500,
        intervalMs: 20,
        inputTokens: 2537,
      }));
      const controller = new AbortController();
      let streamed = 0;
      let sessionId = "";
      const pending = manager
        .runOnce(
          { prompt: "Take your time" },
          {
            signal: controller.signal,
            onEvent: (event) => {
              sessionId ||= event.sessionId;
              if (event.type === "message_streamed") streamed += 1;
            },
          },
        )
        .catch((caught: unknown) => caught);
      for (let i = 0; i < 600 && streamed < 3; i += 1)
        await new Promise((resolve) => setTimeout(resolve, 50));
      expect(streamed).toBeGreaterThanOrEqual(3);
      controller.abort();
      expect(await pending).toMatchObject({ code: "cancelled" });
      // The model stream was cut off, not played to its end.
      expect(api.streams).toHaveLength(1);
      expect(api.streams[0]?.endedAt).toBeUndefined();
      expect(api.streams[0]?.closedAt).toBeDefined();

      const [run] = await store.listRuns(sessionId);
      expect(run?.status).toBe("cancelled");
      expect(run?.tokenUsage.inputTokens).toBe(2537);
      expect(run?.costUsd).toBeGreaterThan(0);
      const events = await runEvents(store, sessionId);
      const usage = events.filter((event) => event.type === "token_usage_updated");
      expect(usage.reduce((sum, event) => sum + (event.data.inputTokens ?? 0), 0)).toBe(2537);
    });

    it("interrupt(runId) stops the turn through the SDK, and the Claude session it names resumes", async () => {
      const { api, adapter } = await harness((body) =>
        JSON.stringify(body.messages?.at(-1)).includes("Go on")
          ? { type: "text", text: "Resumed" }
          : { type: "slow", chunks: 500, intervalMs: 20, inputTokens: 300 },
      );
      const sink = new RecordingSink();
      const request = makeExecuteRequest({ prompt: "Count slowly" });
      const pending = adapter
        .execute(request, sink, new AbortController().signal)
        .catch((caught: unknown) => caught);
      for (let i = 0; i < 600 && sink.of("message_streamed").length < 3; i += 1) {
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      expect(sink.of("message_streamed").length).toBeGreaterThanOrEqual(3);
      expect(await adapter.interrupt(request.run.id)).toBe(true);
      const error = await pending;
      expect(error).toMatchObject({ code: "cancelled", details: { interrupted: true } });
      const { details } = error as AsmError;
      // Claude Code ended the turn itself: no signal was needed.
      expect(details).not.toHaveProperty("processStopped");
      expect(details.providerSessionId).toMatch(/^[0-9a-f-]{36}$/);
      expect(api.streams[0]?.endedAt).toBeUndefined();
      expect(sink.of("token_usage_updated").reduce((sum, event) => sum + event.data.inputTokens, 0)).toBe(
        300,
      );

      const resumed = await adapter.execute(
        makeExecuteRequest(
          { prompt: "Go on" },
          { providerOptions: { claude: { resumeSessionId: String(details.providerSessionId) } } },
        ),
        new RecordingSink(),
        new AbortController().signal,
      );
      expect(resumed.output.content).toBe("Resumed");
      expect(resumed.providerSessionId).toBe(details.providerSessionId);
      // The resumed request carried the interrupted turn.
      expect(JSON.stringify(api.messageRequests().at(-1)?.body)).toContain("Count slowly");
    });

    it("a cancel stops the CLI mid-request: run cancelled once, no process left, only loopback traffic", async () => {
      const { api, manager, store, marker } = await harness(() => ({ type: "stall" }));
      await expectCancelledMidRequest({
        manager,
        store,
        marker,
        requestCount: () => api.messageRequests().length,
        minProcesses: 1,
      });
    });
  },
);

import { execFileSync } from "node:child_process";
import { randomUUID } from "node:crypto";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { AsmError } from "../../core/errors.js";
import type { AsmEvent } from "../../core/events.js";
import type { PolicyInput } from "../../policy/policy.js";
import { SessionManager } from "../../session-manager.js";
import { openSqliteStore, type SqliteSessionStore } from "../../stores/sqlite/index.js";
import {
  type EgressTrap,
  functionCallOutputs,
  type MockOpenAiApi,
  type MockResponsesReplier,
  offeredTools,
  startEgressTrap,
  startMockOpenAiApi,
} from "../../testing/mock-openai-api.js";
import { expectCancelledMidRequest, withoutHostVariables } from "../test-support/e2e-host.js";
import { CodexAdapter, type CodexAdapterOptions, findBundledCodex } from "./index.js";

/*
 * The real Codex CLI (the platform package of @openai/codex, installed with the SDK as a dev
 * dependency) through the real SDK and the adapter's guard, against a loopback mock of the
 * Responses API, through SessionManager into SQLite. Nothing leaves the machine: the base URL is
 * 127.0.0.1, a private CODEX_HOME turns plugins and analytics off (Codex would otherwise reach
 * github.com and chatgpt.com), and every HTTP(S) attempt elsewhere goes to a trap that refuses
 * and records it; each case checks the trap saw nothing and every connection the mock got was
 * from loopback, and the cancel case checks the sockets Codex holds mid-request.
 */

const CODEX = findBundledCodex();
const root = mkdtempSync(path.join(tmpdir(), "asm-codex-e2e-"));
/** Variables from the host that could send the CLI elsewhere or log it in for real. */
const HOST_VARIABLE = /^(OPENAI_|CODEX_|AZURE_)|PROXY/i;
/** A model the pricing table knows, so the manager can price the run. */
const MODEL = "gpt-5.1-codex";
/** Per mock response (see DEFAULT_MOCK_USAGE): 100 in of which 40 cached, 10 out of which 3 reasoning. */
const ONE_CALL = { inputTokens: 60, outputTokens: 10, cacheReadTokens: 40, reasoningTokens: 3 };

withoutHostVariables(HOST_VARIABLE);
afterAll(() => rmSync(root, { recursive: true, force: true }));

interface Harness {
  api: MockOpenAiApi;
  trap: EgressTrap;
  manager: SessionManager;
  store: SqliteSessionStore;
  /** Set in the CLI's environment, to find its processes in /proc. */
  marker: string;
}

const open: Harness[] = [];
afterEach(async () => {
  for (const { store, api, trap } of open.splice(0)) {
    // Whatever happened in the case, nothing may have tried to leave the machine.
    expect(trap.attempts).toEqual([]);
    expect(api.connections.filter((address) => !/^(::ffff:)?127\.|^::1$/.test(address))).toEqual([]);
    await store.close();
    await api.close();
    await trap.close();
  }
});

/** Codex's home for one case: plugins (git ls-remote github.com) and analytics (chatgpt.com) off. */
function codexHome(dir: string): string {
  const home = path.join(dir, "codex-home");
  mkdirSync(home);
  writeFileSync(
    path.join(home, "config.toml"),
    "[analytics]\nenabled = false\n\n[features]\nplugins = false\n",
  );
  return home;
}

/**
 * Codex's built-in provider retries a 429 for ~6 s and a 500 for ~25 s, and its retry counts
 * cannot be tuned; a custom provider pointing at the same mock can, so the failure cases end
 * after one request. (It also skips the WebSocket attempt.) Filled in with the mock's URL.
 */
function withoutRetries(api: MockOpenAiApi): CodexAdapterOptions {
  return {
    providerOptions: {
      config: {
        model_provider: "mock",
        model_providers: {
          mock: {
            name: "mock",
            base_url: api.baseUrl,
            wire_api: "responses",
            env_key: "CODEX_API_KEY",
            request_max_retries: 0,
            stream_max_retries: 0,
          },
        },
      },
    },
  };
}

async function harness(
  replier: MockResponsesReplier,
  adapterOptions: CodexAdapterOptions | ((api: MockOpenAiApi) => CodexAdapterOptions) = {},
): Promise<Harness> {
  if (CODEX === undefined) throw new Error("no codex binary");
  const api = await startMockOpenAiApi(replier);
  const options = typeof adapterOptions === "function" ? adapterOptions(api) : adapterOptions;
  const trap = await startEgressTrap();
  const dir = mkdtempSync(path.join(root, "case-"));
  // codex exec refuses to run outside a git repository.
  const cwd = path.join(dir, "work");
  mkdirSync(cwd);
  execFileSync("git", ["init", "-q", cwd]);
  const marker = randomUUID();
  const adapter = new CodexAdapter({
    executablePath: CODEX.executablePath,
    cwd,
    baseUrl: api.baseUrl,
    model: MODEL,
    killGraceMs: 1000,
    ...options,
    env: {
      ...trap.env(),
      CODEX_HOME: codexHome(dir),
      CODEX_API_KEY: "dummy",
      HOME: dir,
      ASM_E2E_MARKER: marker,
      ...options.env,
    },
  });
  const store = await openSqliteStore({ path: path.join(dir, "asm.db") });
  const created = { api, trap, manager: new SessionManager({ store, adapter }), store, marker };
  open.push(created);
  return created;
}

function events(store: SqliteSessionStore, sessionId: string): Promise<AsmEvent[]> {
  return store.getEvents(sessionId, { limit: 1000 });
}

function terminalTypes(all: readonly AsmEvent[]): string[] {
  return all
    .map((event) => event.type)
    .filter((type) => ["run_completed", "run_failed", "run_cancelled", "run_timeout"].includes(type));
}

describe.skipIf(CODEX === undefined || process.platform !== "linux")(
  "CodexAdapter e2e: real Codex CLI, mock Responses API, SQLite",
  () => {
    it("a text answer is stored with the thread id, this run's usage and a price", async () => {
      const { api, manager, store } = await harness(() => ({
        type: "text",
        text: "Hello from the mock model",
        reasoning: "Thinking about hello",
      }));
      const result = await manager.runOnce(
        { prompt: "Say hello" },
        { providerOptions: { codex: { systemPrompt: "Always answer in English." } } },
      );
      expect(result.output.content).toBe("Hello from the mock model");
      expect(result.providerSessionId).toMatch(/^[0-9a-f-]{36}$/);
      expect(result.model).toBe(MODEL);
      expect(result.tokenUsage).toEqual(ONE_CALL);
      expect(result.costUsd).toBeGreaterThan(0);

      const run = await store.getRun(result.runId);
      expect(run.status).toBe("completed");
      expect(run.providerMetadata).toMatchObject({
        providerSessionId: result.providerSessionId,
        model: MODEL,
        // The thread's total so far, for the run that resumes it.
        providerTotals: { tokenUsage: ONE_CALL },
      });
      expect(run.metadata).toMatchObject({ codex: { threadId: result.providerSessionId } });
      const all = await events(store, result.sessionId);
      expect(terminalTypes(all)).toEqual(["run_completed"]);
      expect(all.find((event) => event.type === "run_started")?.data).toMatchObject({
        providerSessionId: result.providerSessionId,
        model: MODEL,
      });
      const received = all
        .filter((event) => event.type === "message_received")
        .map((event) => event.data.content);
      expect(received).toEqual(["Hello from the mock model"]);
      // Every event the real CLI printed passed the adapter's frame checks (in its guard).
      expect(
        all.filter((event) => event.type === "error_occurred" && event.data.errorCode === "parse_error"),
      ).toEqual([]);
      const thinking = all.filter((event) => event.type === "message_streamed").map((event) => event.data);
      expect(thinking).toEqual([
        expect.objectContaining({ delta: "Thinking about hello", stream: "thinking" }),
      ]);

      const [call] = api.responseRequests();
      expect(call?.body).toMatchObject({ model: MODEL, stream: true });
      const sent = JSON.stringify(call?.body);
      expect(sent).toContain("Say hello");
      // The system prompt went in as developer instructions.
      expect(sent).toContain("Always answer in English.");
      expect(api.requests.some((request) => request.upgrade)).toBe(true);
    });

    it("a policy's tool rules reach Codex: the model is offered no shell tool or web search it forbids", async () => {
      const { api, manager } = await harness(() => ({ type: "text", text: "ok" }));
      const offered = async (policy: PolicyInput): Promise<string[]> => {
        await manager.runOnce({ prompt: "Say hello" }, { policy });
        return offeredTools(api.responseRequests().at(-1)?.body);
      };
      const plain = await offered({});
      expect(plain).toEqual(expect.arrayContaining(["exec_command", "web_search"]));
      const noShell = await offered({ toolRules: [{ deny: ["Bash"] }] });
      expect(noShell).not.toContain("exec_command");
      expect(noShell).toContain("web_search");
      const readOnly = await offered({ toolRules: [{ allow: ["Read", "Grep"] }] });
      expect(readOnly).not.toContain("exec_command");
      expect(readOnly).not.toContain("web_search");
    });

    it("a resumed thread reports its own usage, though Codex's total covers the whole thread", async () => {
      const { api, manager, store } = await harness(() => ({ type: "text", text: "ok" }));
      const session = await manager.startSession({ agentId: "codex" });
      await manager.activateSession(session.id);
      const first = await manager.executeRun((await manager.startRun(session.id, { prompt: "First" })).id);
      expect((await store.getRun(first.runId)).providerMetadata.providerTotals).toEqual({
        tokenUsage: ONE_CALL,
      });
      // Only the thread id is passed: the thread's total before the run comes from the stored runs.
      const pending = await manager.startRun(session.id, { prompt: "Second" });
      const second = await manager.executeRun(pending.id, {
        providerOptions: { codex: { resumeThreadId: first.providerSessionId ?? "" } },
      });
      expect(second.providerSessionId).toBe(first.providerSessionId);
      // Codex reported 200 in / 20 out for the thread; this run's own part is one call.
      expect(second.tokenUsage).toEqual(ONE_CALL);
      const usage = (await events(store, session.id)).filter(
        (event) => event.type === "token_usage_updated" && event.runId === second.runId,
      );
      expect(usage.map((event) => event.data)).toEqual([
        expect.objectContaining({
          ...ONE_CALL,
          threadTotal: { inputTokens: 120, outputTokens: 20, cacheReadTokens: 80, reasoningTokens: 6 },
        }),
      ]);
      // The resumed request carried the first turn.
      expect(JSON.stringify(api.responseRequests().at(-1)?.body)).toContain("First");
    });

    it("a tool call (exec_command) runs in the sandbox, pairs started/completed, and reaches the model", async () => {
      const replier: MockResponsesReplier = (body) => {
        const outputs = functionCallOutputs(body);
        return outputs.length > 0
          ? {
              type: "text",
              text: `The tool said: ${outputs.join(" ").includes("e2e-tool-ok") ? "e2e-tool-ok" : "?"}`,
            }
          : { type: "function_call", name: "exec_command", arguments: { cmd: "echo e2e-tool-ok" } };
      };
      const { api, manager, store } = await harness(replier, { permissionMode: "full_auto" });
      const result = await manager.runOnce({ prompt: "Run echo e2e-tool-ok" });
      expect(result.output.content).toBe("The tool said: e2e-tool-ok");

      const all = await events(store, result.sessionId);
      const started = all.filter((event) => event.type === "tool_call_started");
      const completed = all.filter((event) => event.type === "tool_call_completed");
      expect(started).toHaveLength(1);
      expect(completed).toHaveLength(1);
      expect(started[0]?.data).toMatchObject({ toolName: "Bash", itemType: "command_execution" });
      // Unique in the session: the run's id before Codex's own item id (item_0 in every run).
      expect(started[0]?.data.toolCallId).toBe(`${result.runId}:${started[0]?.data.nativeToolCallId}`);
      expect(JSON.stringify(started[0]?.data.toolInput)).toContain("echo e2e-tool-ok");
      expect(completed[0]?.data).toMatchObject({
        toolCallId: started[0]?.data.toolCallId,
        toolName: "Bash",
        toolOutput: { exitCode: 0, status: "completed" },
      });
      expect(JSON.stringify(completed[0]?.data.toolOutput)).toContain("e2e-tool-ok");
      expect((started[0]?.sequence ?? 0) < (completed[0]?.sequence ?? 0)).toBe(true);
      expect(api.responseRequests().length).toBe(2);
      // Every event the real CLI printed passed the adapter's frame checks (in its guard).
      expect(
        all.filter((event) => event.type === "error_occurred" && event.data.errorCode === "parse_error"),
      ).toEqual([]);
      // Two model calls in one turn: Codex sums them.
      expect(result.tokenUsage).toEqual({
        inputTokens: 120,
        outputTokens: 20,
        cacheReadTokens: 80,
        reasoningTokens: 6,
      });
    });

    it("a 401 fails the run with provider_authentication_failed; the retries are stored as warnings", async () => {
      const { api, manager, store } = await harness(() => ({
        type: "error",
        status: 401,
        message: "Incorrect API key provided: dummy.",
        code: "invalid_api_key",
      }));
      const error = await manager.runOnce({ prompt: "Say hello" }).catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(AsmError);
      expect(error).toMatchObject({ code: "provider_authentication_failed" });
      const runId = error instanceof AsmError ? error.details.runId : undefined;
      const run = await store.getRun(String(runId));
      expect(run.status).toBe("failed");
      expect(run.error).toMatchObject({
        code: "provider_authentication_failed",
        providerError: { provider: "codex", kind: "authentication", exitCode: 1 },
      });
      const all = await events(store, run.sessionId);
      expect(terminalTypes(all)).toEqual(["run_failed"]);
      expect(all.find((event) => event.type === "run_failed")?.data).toMatchObject({
        errorCode: "provider_authentication_failed",
      });
      const warnings = all.filter((event) => event.type === "error_occurred");
      expect(warnings.length).toBeGreaterThan(0);
      expect(warnings.every((event) => event.data.fatal === false)).toBe(true);
      // Every event the real CLI printed passed the adapter's frame checks (in its guard).
      expect(
        all.filter((event) => event.type === "error_occurred" && event.data.errorCode === "parse_error"),
      ).toEqual([]);
      expect(api.responseRequests().length).toBeGreaterThanOrEqual(2);
    });

    it("a 429 fails the run with provider_rate_limited (retryable), status 429 from Codex's 'last status: 429'", async () => {
      const { api, manager, store } = await harness(
        () => ({
          type: "error",
          status: 429,
          message: "Rate limit reached for requests. Please try again in 1.2s.",
          errorType: "rate_limit_error",
          code: "rate_limit_exceeded",
          retryAfterSeconds: 1,
        }),
        withoutRetries,
      );
      const error = await manager.runOnce({ prompt: "Say hello" }).catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(AsmError);
      expect(error).toMatchObject({
        code: "provider_rate_limited",
        retryable: true,
        details: { status: 429 },
      });
      const run = await store.getRun(String(AsmError.is(error) ? error.details.runId : ""));
      expect(run.error).toMatchObject({
        code: "provider_rate_limited",
        details: { status: 429 },
        providerError: { provider: "codex", kind: "rate_limit" },
      });
      expect(terminalTypes(await events(store, run.sessionId))).toEqual(["run_failed"]);
      // Codex 0.163 reports only "exceeded retry limit, last status: 429 Too Many Requests": neither
      // the retry-after header nor the body's delay reaches its output, so no retryAfterMs is known.
      expect(run.error?.details?.retryAfterMs).toBeUndefined();
      expect(api.responseRequests()).toHaveLength(1);
    });

    it("a 500 fails the run with provider_unavailable (retryable), from Codex's own words for it", async () => {
      const { api, manager, store } = await harness(
        () => ({ type: "error", status: 500, message: "The server had an error", errorType: "server_error" }),
        withoutRetries,
      );
      const error = await manager.runOnce({ prompt: "Say hello" }).catch((caught: unknown) => caught);
      expect(error).toMatchObject({ code: "provider_unavailable", retryable: true });
      const run = await store.getRun(String(AsmError.is(error) ? error.details.runId : ""));
      expect(run.status).toBe("failed");
      expect(run.error).toMatchObject({
        code: "provider_unavailable",
        details: { errorType: "server_error" },
      });
      expect(terminalTypes(await events(store, run.sessionId))).toEqual(["run_failed"]);
      expect(api.responseRequests()).toHaveLength(1);
    });

    it("a cancel stops Codex mid-request: run cancelled once, no process left, only loopback sockets", async () => {
      const { api, manager, store, marker } = await harness(() => ({ type: "stall" }));
      // The guard and Codex both carry the marker (the guard hands Codex its environment).
      await expectCancelledMidRequest({
        manager,
        store,
        marker,
        requestCount: () => api.responseRequests().length,
        minProcesses: 2,
      });
    });
  },
);

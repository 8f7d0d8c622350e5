import { existsSync, readdirSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { AsmError } from "../../core/errors.js";
import type { AsmEvent } from "../../core/events.js";
import { SessionManager } from "../../session-manager.js";
import type { SqliteSessionStore } from "../../stores/sqlite/index.js";
import { functionResponses, type MockGeminiReplier, userText } from "../../testing/mock-gemini-api.js";
import { expectCancelledMidRequest } from "../test-support/e2e-host.js";
import { GeminiAdapter, type GeminiAdapterOptions } from "./index.js";
import {
  GEMINI,
  GEMINI_AVAILABLE,
  GEMINI_E2E_MODEL,
  type GeminiE2eCase,
  geminiE2eCases,
} from "./test-support/e2e-case.js";

/*
 * The real Gemini CLI (the pure-JS bundle of @google/gemini-cli, a dev dependency) through the
 * adapter and SessionManager into SQLite, against a loopback mock of the Gemini API. Nothing
 * leaves the machine: GOOGLE_GEMINI_BASE_URL is 127.0.0.1, any other HTTP(S) attempt goes to a
 * trap that refuses and records it, and each case checks the trap saw nothing. The suite skips
 * where the package is missing (an install with --omit=dev), except in CI, where it must run.
 */

const openCase = geminiE2eCases("asm-gemini-e2e-");
const MODEL = GEMINI_E2E_MODEL;

interface Harness extends GeminiE2eCase {
  manager: SessionManager;
  stateDir: string;
}

async function harness(replier: MockGeminiReplier, options: GeminiAdapterOptions = {}): Promise<Harness> {
  const opened = await openCase(replier);
  const stateDir = path.join(opened.dir, "state");
  const adapter = new GeminiAdapter({
    cwd: opened.cwd,
    stateDir,
    model: MODEL,
    trustWorkspace: true,
    killGraceMs: 1000,
    ...options,
    env: { ...opened.env, ...options.env },
  });
  return { ...opened, manager: new SessionManager({ store: opened.store, adapter }), stateDir };
}

function events(store: SqliteSessionStore, sessionId: string): Promise<AsmEvent[]> {
  return store.getEvents(sessionId, { limit: 1000 });
}

function terminalTypes(all: readonly AsmEvent[]): string[] {
  return all
    .map((event) => event.type)
    .filter((type) => ["run_completed", "run_failed", "run_cancelled", "run_timeout"].includes(type));
}

async function failure(promise: Promise<unknown>): Promise<AsmError> {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  if (!AsmError.is(error)) throw new Error(`expected an AsmError, got ${String(error)}`);
  return error;
}

describe.skipIf(!GEMINI_AVAILABLE && process.env.CI !== "true")(
  "GeminiAdapter e2e: real Gemini CLI, mock Gemini API, SQLite",
  () => {
    it("has the CLI bundle (in CI a missing one fails here rather than skipping)", () => {
      expect(existsSync(GEMINI)).toBe(true);
    });

    it("a text answer is stored with the session id, the streamed text and the usage", async () => {
      const { api, manager, store, stateDir } = await harness(() => ({
        type: "text",
        text: "Hello from the mock model",
        chunks: 3,
        usage: { promptTokens: 220, candidatesTokens: 42, cachedTokens: 20, thoughtsTokens: 7 },
      }));
      const result = await manager.runOnce({ prompt: "Say hello" });
      expect(result.output.content).toBe("Hello from the mock model");
      expect(result.providerSessionId).toMatch(/^[0-9a-f-]{36}$/);
      expect(result.model).toBe(MODEL);
      expect(result.tokenUsage).toEqual({
        inputTokens: 200,
        outputTokens: 49,
        cacheReadTokens: 20,
        reasoningTokens: 7,
      });
      const all = await events(store, result.sessionId);
      expect(terminalTypes(all)).toEqual(["run_completed"]);
      expect(all.find((event) => event.type === "run_started")?.data).toMatchObject({
        providerSessionId: result.providerSessionId,
        model: MODEL,
      });
      const streamed = all
        .filter((event) => event.type === "message_streamed")
        .map((event) => event.data.delta);
      expect(streamed.join("")).toBe("Hello from the mock model");
      expect(
        all.filter((event) => event.type === "message_received").map((event) => event.data.content),
      ).toEqual(["Hello from the mock model"]);
      // Every line the real CLI printed passed the adapter's frame checks.
      expect(all.filter((event) => event.type === "error_occurred")).toEqual([]);
      const [call] = api.streamRequests();
      expect(call?.model).toBe(MODEL);
      expect(userText(call?.body)).toContain("Say hello");
      // The CLI's state went to the session's own home, not the host's ~/.gemini.
      expect(readdirSync(path.join(stateDir, result.sessionId, ".gemini"))).toContain("settings.json");
    });

    it("a tool call (run_shell_command, yolo) pairs started/completed and its output reaches the model", async () => {
      const replier: MockGeminiReplier = (body) => {
        const outputs = functionResponses(body);
        return outputs.length > 0
          ? {
              type: "text",
              text: `The tool said: ${outputs.join(" ").includes("e2e-tool-ok") ? "e2e-tool-ok" : "?"}`,
            }
          : { type: "function_call", name: "run_shell_command", args: { command: "echo e2e-tool-ok" } };
      };
      const { api, manager, store } = await harness(replier, { permissionMode: "full_auto" });
      const result = await manager.runOnce({ prompt: "Run echo e2e-tool-ok" });
      expect(result.output.content).toBe("The tool said: e2e-tool-ok");
      const all = await events(store, result.sessionId);
      const started = all.filter((event) => event.type === "tool_call_started");
      const completed = all.filter((event) => event.type === "tool_call_completed");
      expect(started.map((event) => event.data)).toEqual([
        expect.objectContaining({
          toolName: "Bash",
          nativeToolName: "run_shell_command",
          toolInput: { command: "echo e2e-tool-ok" },
        }),
      ]);
      expect(completed.map((event) => event.data)).toEqual([
        expect.objectContaining({
          toolCallId: started[0]?.data.toolCallId,
          toolName: "Bash",
          toolOutput: "e2e-tool-ok",
        }),
      ]);
      expect(api.streamRequests().length).toBe(2);
      expect(all.filter((event) => event.type === "error_occurred")).toEqual([]);
    });

    it("a 401 fails the run with provider_authentication_failed, after one request", async () => {
      const { api, manager, store } = await harness(() => ({
        type: "error",
        status: 401,
        message: "API key not valid. Please pass a valid API key.",
        rpcStatus: "UNAUTHENTICATED",
      }));
      const error = await failure(manager.runOnce({ prompt: "Say hello" }));
      expect(error.code).toBe("provider_authentication_failed");
      expect(error.details).toMatchObject({ status: 401 });
      const run = await store.getRun(String(error.details.runId));
      expect(run.status).toBe("failed");
      expect(run.error).toMatchObject({
        code: "provider_authentication_failed",
        providerError: { provider: "gemini", kind: "authentication", exitCode: 145 },
      });
      expect(terminalTypes(await events(store, run.sessionId))).toEqual(["run_failed"]);
      expect(api.streamRequests().length).toBe(1);
    });

    it("a 429 with a retry delay fails at once as provider_rate_limited with details.retryAfterMs", async () => {
      const { api, manager } = await harness(() => ({
        type: "error",
        status: 429,
        message: "Resource has been exhausted (e.g. check quota).",
        retryDelaySeconds: 7,
      }));
      const startedAt = Date.now();
      const error = await failure(manager.runOnce({ prompt: "Say hello" }));
      expect(error.code).toBe("provider_rate_limited");
      expect(error.retryable).toBe(true);
      expect(error.details).toMatchObject({ status: 429, retryAfterMs: 7000 });
      // One attempt (maxAttempts 1): the CLI did not sit out the suggested delay itself.
      expect(api.streamRequests().length).toBe(1);
      expect(Date.now() - startedAt).toBeLessThan(30_000);
    });

    it("a cancel stops the CLI mid-request: run cancelled once, no process left, only loopback sockets", async () => {
      const { api, manager, store, marker } = await harness(() => ({ type: "stall" }));
      await expectCancelledMidRequest({
        manager,
        store,
        marker,
        requestCount: () => api.streamRequests().length,
        minProcesses: 1,
      });
    });

    it("a second run resumes the Gemini session: same id, the first turn in the history", async () => {
      const { api, manager } = await harness((body) => ({
        type: "text",
        text: userText(body).includes("First question") ? "I remember the first" : "fresh",
      }));
      const session = await manager.startSession({ agentId: "gemini" });
      await manager.activateSession(session.id);
      const first = await manager.executeRun(
        (await manager.startRun(session.id, { prompt: "First question" })).id,
      );
      const pending = await manager.startRun(session.id, { prompt: "Second question" });
      const second = await manager.executeRun(pending.id, {
        providerOptions: { gemini: { resumeSessionId: first.providerSessionId ?? "" } },
      });
      expect(second.providerSessionId).toBe(first.providerSessionId);
      expect(second.output.content).toBe("I remember the first");
      const last = userText(api.streamRequests().at(-1)?.body);
      expect(last).toContain("First question");
      expect(last).toContain("Second question");
    });
  },
);

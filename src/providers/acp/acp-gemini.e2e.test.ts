import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { AsmError } from "../../core/errors.js";
import type { AsmEvent } from "../../core/events.js";
import { SessionManager } from "../../session-manager.js";
import type { SqliteSessionStore } from "../../stores/sqlite/index.js";
import {
  functionResponses,
  geminiMockSettings,
  type MockGeminiReplier,
  userText,
} from "../../testing/mock-gemini-api.js";
import {
  GEMINI_AVAILABLE,
  GEMINI_E2E_MODEL,
  type GeminiE2eCase,
  geminiE2eCases,
} from "../gemini/test-support/e2e-case.js";
import { expectCancelledMidRequest } from "../test-support/e2e-host.js";
import { AcpAdapter, type AcpAdapterOptions } from "./index.js";

/*
 * The real Gemini CLI in ACP mode (`gemini --acp`, the `gemini` preset) through the AcpAdapter
 * and SessionManager into SQLite, against the loopback Gemini API mock. As in the Gemini e2e
 * suite, nothing may leave the machine, and the suite fails rather than skips in CI without the
 * CLI bundle.
 */

const openCase = geminiE2eCases("asm-acp-gemini-e2e-");

interface Harness extends GeminiE2eCase {
  manager: SessionManager;
}

async function harness(
  replier: MockGeminiReplier,
  options: Partial<AcpAdapterOptions> = {},
): Promise<Harness> {
  const opened = await openCase(replier);
  // The CLI's own state, apart from the host's: one attempt per request, the API-key auth type.
  mkdirSync(path.join(opened.dir, ".gemini"));
  writeFileSync(
    path.join(opened.dir, ".gemini", "settings.json"),
    JSON.stringify({ ...geminiMockSettings(), model: { name: GEMINI_E2E_MODEL } }),
  );
  const adapter = new AcpAdapter({
    agent: "gemini",
    cwd: opened.cwd,
    cancelGraceMs: 2000,
    killGraceMs: 1000,
    ...options,
    env: { ...opened.env, GEMINI_CLI_HOME: opened.dir, ...options.env },
  });
  return { ...opened, manager: new SessionManager({ store: opened.store, adapter }) };
}

function events(store: SqliteSessionStore, sessionId: string): Promise<AsmEvent[]> {
  return store.getEvents(sessionId, { limit: 1000 });
}

/** A write_file of a new file: Gemini asks permission for it (a shell `echo` it runs unasked). */
const writeCall: MockGeminiReplier = (body) => {
  const outputs = functionResponses(body).join(" ");
  return outputs !== ""
    ? { type: "text", text: `tool said: ${/cancel/i.test(outputs) ? "refused" : "written"}` }
    : { type: "function_call", name: "write_file", args: { file_path: "out.txt", content: "acp-tool-ok\n" } };
};

describe.skipIf(!GEMINI_AVAILABLE && process.env.CI !== "true")(
  "AcpAdapter e2e: gemini --acp, mock Gemini API, SQLite",
  () => {
    it("a text answer with the ACP session id and the usage Gemini puts in _meta.quota", async () => {
      const { api, manager, store } = await harness(() => ({
        type: "text",
        text: "Hello over ACP",
        chunks: 2,
      }));
      const result = await manager.runOnce({ prompt: "Say hello" });
      expect(result.output.content).toBe("Hello over ACP");
      expect(result.providerSessionId).toEqual(expect.any(String));
      expect(result.tokenUsage).toEqual({ inputTokens: 220, outputTokens: 42 });
      const all = await events(store, result.sessionId);
      expect(
        all.filter((event) => event.type === "message_received").map((event) => event.data.content),
      ).toEqual(["Hello over ACP"]);
      expect(all.filter((event) => event.type === "error_occurred")).toEqual([]);
      expect(userText(api.streamRequests()[0]?.body)).toContain("Say hello");
    });

    it("a permission request (write_file) is granted by an approval: the call runs and the file is written", async () => {
      const asked: string[] = [];
      const { manager, store, cwd } = await harness(writeCall, {
        approvals: {
          async decide(request) {
            asked.push(request.toolName);
            return true;
          },
        },
      });
      const result = await manager.runOnce({ prompt: "write the file" });
      expect(asked).toEqual(["Edit"]);
      expect(result.output.content).toBe("tool said: written");
      expect(readFileSync(path.join(cwd, "out.txt"), "utf8")).toBe("acp-tool-ok\n");
      const all = await events(store, result.sessionId);
      const started = all.filter((event) => event.type === "tool_call_started");
      expect(started.map((event) => event.data.toolName)).toEqual(["Edit"]);
      expect(
        all.filter((event) => event.type === "tool_call_completed").map((event) => event.data.toolCallId),
      ).toEqual(started.map((event) => event.data.toolCallId));
    });

    it("a tool the policy denies is refused before it starts; the model is told and nothing is written", async () => {
      const { api, manager, store, cwd } = await harness(writeCall);
      const result = await manager.runOnce(
        { prompt: "write the file" },
        { policy: { toolRules: [{ deny: ["Edit"] }] } },
      );
      expect(result.output.content).toBe("tool said: refused");
      expect(existsSync(path.join(cwd, "out.txt"))).toBe(false);
      const all = await events(store, result.sessionId);
      expect(all.filter((event) => event.type === "tool_call_started")).toEqual([]);
      expect(all.filter((event) => event.type === "error_occurred").map((event) => event.data)).toEqual([
        expect.objectContaining({ errorCode: "tool_permission_denied", fatal: false }),
      ]);
      expect(functionResponses(api.streamRequests().at(-1)?.body).join(" ")).toMatch(/cancel/i);
    });

    it("a 429 is provider_rate_limited (the JSON-RPC error code is the HTTP status)", async () => {
      const { manager } = await harness(() => ({
        type: "error",
        status: 429,
        message: "Resource has been exhausted.",
      }));
      const error = await manager.runOnce({ prompt: "Say hello" }).then(
        () => undefined,
        (caught: unknown) => caught,
      );
      expect(AsmError.is(error, "provider_rate_limited")).toBe(true);
    });

    it("a cancel sends session/cancel mid-request: run cancelled once, no process left", async () => {
      const { api, manager, store, marker } = await harness(() => ({ type: "stall" }));
      await expectCancelledMidRequest({
        manager,
        store,
        marker,
        requestCount: () => api.streamRequests().length,
        minProcesses: 1,
      });
    });
  },
);

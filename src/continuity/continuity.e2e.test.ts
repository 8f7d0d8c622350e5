import { execFileSync } from "node:child_process";
import { randomUUID } from "node:crypto";
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { ClaudeAdapter } from "../providers/claude/index.js";
import { CodexAdapter, findBundledCodex } from "../providers/codex/index.js";
import { withoutHostVariables } from "../providers/test-support/e2e-host.js";
import { SessionManager } from "../session-manager.js";
import { openSqliteStore, type SqliteSessionStore } from "../stores/sqlite/index.js";
import {
  bundledClaudeBinary,
  claudeMockEnv,
  type MockAnthropicApi,
  startMockAnthropicApi,
} from "../testing/mock-anthropic-api.js";
import {
  type EgressTrap,
  type MockOpenAiApi,
  type ResponsesRequestBody,
  startEgressTrap,
  startMockOpenAiApi,
} from "../testing/mock-openai-api.js";
import { REPLAY_OPEN } from "./replay-format.js";

/*
 * The seed's continuity example against the real CLIs: run 1 "Remember: the code is X-42.",
 * run 2 "What was the code?". Claude Code and Codex run for real against loopback mocks of their
 * model APIs (as in the adapters' e2e suites), through SessionManager into SQLite. Each CLI is
 * started through a small wrapper that appends its argv to a file, so a test can see that native
 * continuation started the CLI resuming the first session or thread; the mocks record every
 * model request, so a test can see what replay put in front of the model.
 */

const CLAUDE = bundledClaudeBinary();
const CODEX = process.platform === "linux" ? findBundledCodex() : undefined;
const root = mkdtempSync(path.join(tmpdir(), "asm-continuity-e2e-"));
withoutHostVariables(/^(ANTHROPIC_|CLAUDE_|AWS_|GOOGLE_|VERTEX|OPENAI_|CODEX_|AZURE_)|PROXY/i);
afterAll(() => rmSync(root, { recursive: true, force: true }));

const REMEMBER = "Remember: the code is X-42.";
const ASK = "What was the code?";
const CLAUDE_NOTED = "Noted: the code is X-42.";

const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await close();
});

/** A CLI started through a wrapper that appends its argv (one line per start) to `log`. */
function argvRecorder(dir: string, binary: string): { executable: string; starts: () => string[][] } {
  const log = path.join(dir, "argv.log");
  const executable = path.join(dir, "cli-wrapper");
  // The real binary and the log are fixed paths of this test, never input.
  writeFileSync(
    executable,
    `#!/bin/sh\nfor a in "$@"; do printf '%s\\037' "$a" >> '${log}'; done\nprintf '\\n' >> '${log}'\nexec '${binary}' "$@"\n`,
  );
  chmodSync(executable, 0o700);
  return {
    executable,
    starts: () =>
      existsSync(log)
        ? readFileSync(log, "utf8")
            .split("\n")
            .filter((line) => line.length > 0)
            .map((line) => line.split("\x1f").filter((arg) => arg.length > 0))
        : [],
  };
}

interface ClaudeSide {
  api: MockAnthropicApi;
  adapter: ClaudeAdapter;
  starts: () => string[][];
}

async function claudeSide(dir: string): Promise<ClaudeSide> {
  if (CLAUDE === undefined) throw new Error("no claude binary");
  // The model "remembers" only what the request carries: it answers from the conversation sent.
  const api = await startMockAnthropicApi((body) => {
    const sent = JSON.stringify(body.messages ?? []);
    if (!sent.includes(ASK)) return { type: "text", text: CLAUDE_NOTED };
    return { type: "text", text: sent.includes("X-42") ? "The code was X-42." : "I do not know." };
  });
  closers.push(() => api.close());
  const home = path.join(dir, "claude-home");
  mkdirSync(home);
  const recorder = argvRecorder(home, CLAUDE);
  const adapter = new ClaudeAdapter({
    executablePath: recorder.executable,
    cwd: home,
    killGraceMs: 1000,
    env: claudeMockEnv(api.url, home),
  });
  return { api, adapter, starts: recorder.starts };
}

interface CodexSide {
  api: MockOpenAiApi;
  trap: EgressTrap;
  adapter: CodexAdapter;
  starts: () => string[][];
}

async function codexSide(dir: string): Promise<CodexSide> {
  if (CODEX === undefined) throw new Error("no codex binary");
  const api = await startMockOpenAiApi((body: ResponsesRequestBody) => {
    const sent = JSON.stringify(body.input ?? []);
    if (!sent.includes(ASK)) return { type: "text", text: "Noted: X-42." };
    return { type: "text", text: sent.includes("X-42") ? "The code was X-42." : "I do not know." };
  });
  const trap = await startEgressTrap();
  closers.push(async () => {
    // Nothing may have tried to leave the machine.
    expect(trap.attempts).toEqual([]);
    await api.close();
    await trap.close();
  });
  const home = path.join(dir, "codex");
  const cwd = path.join(home, "work");
  mkdirSync(cwd, { recursive: true });
  execFileSync("git", ["init", "-q", cwd]);
  const codexHome = path.join(home, "codex-home");
  mkdirSync(codexHome);
  writeFileSync(
    path.join(codexHome, "config.toml"),
    "[analytics]\nenabled = false\n\n[features]\nplugins = false\n",
  );
  const recorder = argvRecorder(home, CODEX.executablePath);
  const adapter = new CodexAdapter({
    executablePath: recorder.executable,
    cwd,
    baseUrl: api.baseUrl,
    model: "gpt-5.1-codex",
    killGraceMs: 1000,
    env: { ...trap.env(), CODEX_HOME: codexHome, CODEX_API_KEY: "dummy", HOME: home },
  });
  return { api, trap, adapter, starts: recorder.starts };
}

async function sqlite(dir: string): Promise<SqliteSessionStore> {
  const store = await openSqliteStore({ path: path.join(dir, "asm.db") });
  closers.push(() => store.close());
  return store;
}

async function activeSession(manager: SessionManager): Promise<string> {
  const session = await manager.startSession({ agentId: "continuity-e2e" });
  await manager.activateSession(session.id);
  return session.id;
}

const caseDir = () => mkdtempSync(path.join(root, `case-${randomUUID().slice(0, 8)}-`));

describe.skipIf(CLAUDE === undefined)("continuity e2e: real Claude Code", () => {
  it("native: run 2 starts Claude Code with --resume of run 1's session; the model gets run 1's turn", async () => {
    const dir = caseDir();
    const claude = await claudeSide(dir);
    const manager = new SessionManager({ store: await sqlite(dir), adapter: claude.adapter });
    const id = await activeSession(manager);
    const first = await (await manager.streamRun(id, REMEMBER)).result;
    const second = await (await manager.streamRun(id, ASK, { continuation: "native" })).result;

    expect(second.continuity).toEqual({
      requested: "native",
      mode: "native",
      provider: "claude",
      providerSessionId: first.providerSessionId,
    });
    expect(second.providerSessionId).toBe(first.providerSessionId);
    expect(second.output.content).toBe("The code was X-42.");
    const [start1, start2] = claude.starts();
    expect(start1?.some((arg) => arg.startsWith("--resume"))).toBe(false);
    expect(start2).toContain(`--resume=${first.providerSessionId}`);
    // The history came from Claude Code's own session, not from a replay block.
    const last = JSON.stringify(claude.api.messageRequests().at(-1)?.body);
    expect(last).toContain(REMEMBER);
    expect(last).toContain(CLAUDE_NOTED);
    expect(last).not.toContain(REPLAY_OPEN);
  });

  it("replay: a fresh Claude Code session whose first request carries run 1's exchange", async () => {
    const dir = caseDir();
    const claude = await claudeSide(dir);
    const manager = new SessionManager({ store: await sqlite(dir), adapter: claude.adapter });
    const id = await activeSession(manager);
    const first = await (await manager.streamRun(id, REMEMBER)).result;
    const second = await (await manager.streamRun(id, ASK, { continuation: "replay" })).result;

    expect(second.continuity).toMatchObject({ mode: "replay", messages: 2, fromRuns: [first.runId] });
    expect(second.providerSessionId).not.toBe(first.providerSessionId);
    expect(claude.starts()[1]?.some((arg) => arg.startsWith("--resume"))).toBe(false);
    expect(second.output.content).toBe("The code was X-42.");
    const last = JSON.stringify(claude.api.messageRequests().at(-1)?.body);
    expect(last).toContain(REPLAY_OPEN);
    expect(last).toContain(`[user] ${REMEMBER}`);
    expect(last).toContain(`[assistant] ${CLAUDE_NOTED}`);
  });
});

describe.skipIf(CODEX === undefined)("continuity e2e: real Codex CLI", () => {
  it("native: run 2 starts codex exec resuming run 1's thread; the model gets run 1's turn", async () => {
    const dir = caseDir();
    const codex = await codexSide(dir);
    const manager = new SessionManager({ store: await sqlite(dir), adapter: codex.adapter });
    const id = await activeSession(manager);
    const first = await (await manager.streamRun(id, REMEMBER)).result;
    const second = await (await manager.streamRun(id, ASK, { continuation: "auto" })).result;

    expect(second.continuity).toEqual({
      requested: "auto",
      mode: "native",
      provider: "codex",
      providerSessionId: first.providerSessionId,
    });
    expect(second.providerSessionId).toBe(first.providerSessionId);
    expect(second.output.content).toBe("The code was X-42.");
    const [start1, start2] = codex.starts();
    expect(start1).not.toContain("resume");
    const resume = start2?.indexOf("resume") ?? -1;
    expect(resume).toBeGreaterThan(-1);
    expect(start2?.[resume + 1]).toBe(first.providerSessionId);
    const last = JSON.stringify(codex.api.responseRequests().at(-1)?.body);
    expect(last).toContain(REMEMBER);
    expect(last).not.toContain(REPLAY_OPEN);
  });
});

describe.skipIf(CLAUDE === undefined || CODEX === undefined)("continuity e2e: Claude Code → Codex", () => {
  it("a session begun on Claude continues on Codex: the transcript is replayed into Codex's request", async () => {
    const dir = caseDir();
    const store = await sqlite(dir);
    const claude = await claudeSide(dir);
    const codex = await codexSide(dir);
    const onClaude = new SessionManager({ store, adapter: claude.adapter });
    const onCodex = new SessionManager({ store, adapter: codex.adapter });
    const id = await activeSession(onClaude);
    const first = await (await onClaude.streamRun(id, REMEMBER)).result;
    const second = await (await onCodex.streamRun(id, ASK, { continuation: "auto" })).result;

    expect(second.continuity).toMatchObject({
      requested: "auto",
      mode: "replay",
      provider: "codex",
      messages: 2,
      fromRuns: [first.runId],
    });
    expect(second.output.content).toBe("The code was X-42.");
    // Codex started a new thread (there was none to resume)…
    expect(codex.starts()[0]).not.toContain("resume");
    // …and its first model request carried Claude's exchange.
    const [request] = codex.api.responseRequests();
    const sent = JSON.stringify(request?.body);
    expect(sent).toContain(REPLAY_OPEN);
    expect(sent).toContain(`[user] ${REMEMBER}`);
    expect(sent).toContain(`[assistant] ${CLAUDE_NOTED}`);
    const run = await store.getRun(second.runId);
    expect(run.metadata.continuity).toMatchObject({ mode: "replay", messages: 2 });
    expect(run.provider).toBe("codex");
  });
});

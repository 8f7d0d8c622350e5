/**
 * The dashboard in a real browser: Debian's Chromium driven by playwright-core against a real
 * `asm serve` API (SQLite, the gated adapter: runs stream, then wait for the test to release
 * them). Every wait is on a DOM condition or a request, never a sleep.
 */
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { type BrowserContext, chromium, type Page } from "playwright-core";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { AsmClient } from "../client/index.js";
import type { EventDraft } from "../core/events.js";
import { newId } from "../core/ids.js";
import { ApprovalGate } from "../policy/approvals.js";
import { ShellAdapter } from "../providers/shell/index.js";
import { DASHBOARD_FILES, loadDashboard } from "../server/dashboard.js";
import { startApiServer } from "../server/serve.js";
import { type Harness, startHarness, TEST_TOKEN } from "../server/test-support/harness.js";
import { SessionManager } from "../session-manager.js";
import { openDurableStore } from "../stores/open-store.js";
import { buildDashboard } from "./build.js";

const CHROMIUM = "/usr/bin/chromium";
const ARTIFACTS = fileURLToPath(new URL("../../test-artifacts/", import.meta.url));
/** Bound on any single DOM wait: generous for a loaded 2-core box, still a bound. */
const WAIT_MS = 15_000;

let buildDir: string;
let profileDir: string;
let context: BrowserContext;
let harness: Harness | undefined;
let page: Page;
/** Console errors and uncaught exceptions of the page (a CSP violation shows up here). */
let pageErrors: string[] = [];

beforeAll(async () => {
  buildDir = await mkdtemp(join(tmpdir(), "asm-dashboard-build-"));
  profileDir = await mkdtemp(join(tmpdir(), "asm-chromium-"));
  await mkdir(ARTIFACTS, { recursive: true });
  await buildDashboard(buildDir);
  context = await chromium.launchPersistentContext(profileDir, {
    executablePath: CHROMIUM,
    headless: true,
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-background-networking",
      "--disable-quic",
      "--no-first-run",
      "--disable-component-update",
      "--disable-sync",
    ],
    viewport: { width: 1280, height: 900 },
  });
}, 60_000);

afterAll(async () => {
  await context?.close();
  await rm(profileDir, { recursive: true, force: true });
  await rm(buildDir, { recursive: true, force: true });
});

afterEach(async () => {
  await page?.close();
  await harness?.stop();
  harness = undefined;
});

async function start() {
  const dashboard = loadDashboard(buildDir);
  if (!dashboard) throw new Error(`no dashboard build in ${buildDir}`);
  harness = await startHarness({ dashboard });
  const client = new AsmClient({ baseUrl: harness.server.url, token: TEST_TOKEN });
  pageErrors = [];
  page = await context.newPage();
  page.setDefaultTimeout(WAIT_MS);
  page.on("pageerror", (error) => pageErrors.push(error.message));
  page.on("console", (message) => {
    if (message.type() === "error") pageErrors.push(message.text());
  });
  return { ...harness, client };
}

/** Opens the dashboard with the token in the fragment, as `asm serve` prints the link. */
async function open(url: string, route = "#/"): Promise<void> {
  await page.goto(`${url}/#token=${TEST_TOKEN}`);
  await page.getByRole("heading", { name: "Sessions" }).waitFor();
  if (route !== "#/") await page.goto(`${url}/${route}`);
}

/** The sequences the timeline shows, in page order. */
async function timelineSequences(): Promise<number[]> {
  const values = await page
    .locator(".timeline > li")
    .evaluateAll((items) => items.map((item) => Number(item.getAttribute("data-sequence"))));
  return values;
}

describe("static serving", () => {
  it("serves the built files from memory with a strict CSP, and 404 for any other path", async () => {
    const { server } = await start();
    for (const name of DASHBOARD_FILES) {
      const response = await fetch(`${server.url}/${name}`);
      expect(response.status).toBe(200);
      expect(response.headers.get("content-security-policy")).toContain("default-src 'self'");
      expect(response.headers.get("x-content-type-options")).toBe("nosniff");
    }
    const index = await fetch(`${server.url}/`);
    expect(index.headers.get("content-type")).toBe("text/html; charset=utf-8");
    expect(await index.text()).toContain('<script type="module" src="/app.js"></script>');
    for (const path of [
      "/%2e%2e/package.json",
      "/..%2fpackage.json",
      "/build.ts",
      "/ui/main.tsx",
      "/app.js.map",
    ]) {
      const response = await fetch(`${server.url}${path}`);
      expect(response.status, path).toBe(404);
      expect(await response.text()).toBe("not found\n");
    }
    // The API keeps its own 404 and its token: the dashboard's files carry no data.
    const api = await fetch(`${server.url}/api/v1/nothing`, {
      headers: { authorization: `Bearer ${TEST_TOKEN}` },
    });
    expect(api.status).toBe(404);
    expect(((await api.json()) as { code: string }).code).toBe("not_found");
  });
});

describe("dashboard in Chromium", () => {
  it("lists a session created through the API, after taking the token from the link", async () => {
    const { client, server } = await start();
    const session = await client.createSession({ agentId: "browser-agent", tags: ["ui"] });
    await open(server.url);
    const row = page.locator(`tr[data-session-id="${session.id}"]`);
    await row.waitFor();
    expect(await row.getByRole("cell").allTextContents()).toEqual(
      expect.arrayContaining(["browser-agent", "active"]),
    );
    // The token left the address bar (it stays in this tab's sessionStorage only).
    expect(page.url()).toBe(`${server.url}/#/`);
    await page.screenshot({ path: join(ARTIFACTS, "dashboard-sessions.png"), fullPage: true });
    await row.getByRole("link", { name: session.id }).click();
    await page.getByRole("heading", { name: `Session ${session.id}` }).waitFor();
    expect(pageErrors).toEqual([]);
  });

  it("pages the sessions list by cursor and filters it by status and agent", async () => {
    const { client, server } = await start();
    const created = [];
    for (let index = 0; index < 27; index += 1)
      created.push(await client.createSession({ agentId: `agent-${index % 3}` }));
    const cancelled = created[4];
    if (!cancelled) throw new Error("no session to cancel");
    await client.cancelSession(cancelled.id);
    await open(server.url);
    const rows = page.locator("table.sessions tbody tr");
    await rows.nth(24).waitFor();
    const ids = () => rows.evaluateAll((items) => items.map((item) => item.getAttribute("data-session-id")));
    const firstPage = await ids();
    expect(firstPage).toHaveLength(25);
    await page.getByRole("button", { name: "Next" }).click();
    await page.getByRole("button", { name: "Previous", disabled: false }).waitFor();
    await rows.nth(2).waitFor({ state: "detached" });
    const secondPage = await ids();
    expect(secondPage).toHaveLength(2);
    // The two pages hold every session once.
    expect([...firstPage, ...secondPage].sort()).toEqual(created.map((session) => session.id).sort());

    await page.getByLabel("Status").selectOption("cancelled");
    await page.getByRole("button", { name: "Filter" }).click();
    await page.locator(`tr[data-session-id="${cancelled.id}"]`).waitFor();
    await rows.nth(1).waitFor({ state: "detached" });
    await page.getByLabel("Status").selectOption("");
    await page.getByLabel("Agent").fill("agent-1");
    await page.getByRole("button", { name: "Filter" }).click();
    await rows.nth(8).waitFor();
    await rows.nth(9).waitFor({ state: "detached" });
    expect(new Set(await rows.locator("td:nth-of-type(1)").allTextContents())).toEqual(new Set(["agent-1"]));
  });

  it("asks for the token when the link has none, then shows the sessions", async () => {
    const { client, server } = await start();
    const session = await client.createSession({ agentId: "needs-token" });
    await page.goto(`${server.url}/`);
    await page.getByRole("heading", { name: "Sign in" }).waitFor();
    await page.getByLabel("API token").fill(TEST_TOKEN);
    await page.getByRole("button", { name: "Use token" }).click();
    await page.locator(`tr[data-session-id="${session.id}"]`).waitFor();
    // The refused first request is the browser's only console error: a 401 is logged by Chromium.
    expect(pageErrors.every((text) => text.includes("401"))).toBe(true);
  });

  it("streams a run submitted from the page live into the timeline, and a reload resumes from the cursor without duplicates", async () => {
    const { client, server, adapter, store } = await start();
    const session = await client.createSession({ agentId: "live-agent" });
    await open(server.url, `#/sessions/${session.id}`);
    await page.locator('[data-stream-state="live"]').waitFor();

    await page.getByLabel("Prompt text").fill("live-1");
    await page.getByRole("button", { name: "Submit run" }).click();
    // The delta shows while the run is still running: the adapter holds it until released.
    await page.locator('.timeline > li[data-type="message_streamed"]', { hasText: "live-1:0" }).waitFor();
    const [run] = (await client.listRuns(session.id)).items;
    expect(run?.status).toBe("running");
    await page.locator(`.runs li[data-run-id="${run?.id}"] .status`, { hasText: "running" }).waitFor();

    adapter.release("live-1");
    await page.locator('.timeline > li[data-type="run_completed"]').waitFor();
    await page.locator(`.runs li[data-run-id="${run?.id}"] .status`, { hasText: "completed" }).waitFor();
    const stored = (await store.getEvents(session.id, { limit: 1000 })).map((event) => event.sequence);
    await page.locator(`.timeline > li[data-sequence="${stored.at(-1)}"]`).waitFor();
    expect(await timelineSequences()).toEqual(stored);

    // Run details: the stored run, with its model and tokens.
    await page.locator(`.runs li[data-run-id="${run?.id}"] summary`).click();
    const details = page.locator(`.runs li[data-run-id="${run?.id}"] .run-details`);
    await details.getByText("gate-1").waitFor();
    expect(await details.locator("dd").allTextContents()).toEqual(expect.arrayContaining(["3", "2"]));
    await page.screenshot({ path: join(ARTIFACTS, "dashboard-session-live.png"), fullPage: true });

    // Reload: history by pages, then the stream from the last sequence read.
    const streamRequest = page.waitForRequest((request) => request.url().includes("/events/stream"));
    await page.reload();
    const resumedFrom = (await streamRequest).headers()["last-event-id"];
    expect(resumedFrom).toBe(String(stored.at(-1)));
    await page.locator('[data-stream-state="live"]').waitFor();

    // A run after the reload arrives over the resumed stream; nothing shows twice.
    const { runId } = await client.submitRun(session.id, { input: { prompt: "after-reload" } });
    adapter.release("after-reload");
    await client.awaitRun(session.id, runId, { timeoutMs: WAIT_MS });
    const all = (await store.getEvents(session.id, { limit: 1000 })).map((event) => event.sequence);
    expect(all.length).toBeGreaterThan(stored.length);
    await page.locator(`.timeline > li[data-sequence="${all.at(-1)}"]`).waitFor();
    const shown = await timelineSequences();
    expect(shown).toEqual(all);
    expect(new Set(shown).size).toBe(shown.length);
    expect(pageErrors).toEqual([]);
  });

  it("runs a shell command submitted from the page (a --dev server, no token), its output live", async () => {
    const dir = await mkdtemp(join(tmpdir(), "asm-dashboard-shell-"));
    const store = await openDurableStore(join(dir, "asm.db"), { autoMigrate: true });
    const manager = new SessionManager({ store, adapter: new ShellAdapter({ cwd: dir }) });
    const server = await startApiServer({
      manager,
      port: 0,
      dev: true,
      dashboard: loadDashboard(buildDir) ?? false,
    });
    try {
      const client = new AsmClient({ baseUrl: server.url });
      const session = await client.createSession({ agentId: "shell-agent" });
      pageErrors = [];
      page = await context.newPage();
      page.setDefaultTimeout(WAIT_MS);
      page.on("console", (message) => {
        if (message.type() === "error") pageErrors.push(message.text());
      });
      await page.goto(`${server.url}/#/sessions/${session.id}`);
      await page.locator('[data-stream-state="live"]').waitFor();
      // The command prints, then waits for a file the test creates: its first line must show
      // while it is still running.
      const flag = join(dir, "go");
      const script = 'echo "waiting for $1"; while [ ! -e "$1" ]; do sleep 0.02; done; echo released';
      await page.getByLabel("Command (one argument per line)").check();
      await page.getByLabel("Command arguments").fill(["sh", "-c", script, "sh", flag].join("\n"));
      await page.getByRole("button", { name: "Submit run" }).click();
      await page
        .locator('.timeline > li[data-type="message_streamed"]', { hasText: `waiting for ${flag}` })
        .waitFor();
      const [run] = (await client.listRuns(session.id)).items;
      expect(run?.status).toBe("running");
      expect(run?.input).toEqual({ command: ["sh", "-c", script, "sh", flag] });
      await writeFile(flag, "");
      await page.locator('.timeline > li[data-type="message_streamed"]', { hasText: "released" }).waitFor();
      await page.locator('.timeline > li[data-type="run_completed"]').waitFor();
      expect(pageErrors).toEqual([]);
    } finally {
      await server.close({ drainTimeoutMs: 1 });
      await store.close();
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("approves a pending approval with the keyboard and denies another by click; the decisions are stored", async () => {
    const { client, server, store } = await start();
    const session = await client.createSession({ agentId: "approval-agent" });
    const gate = new ApprovalGate(store);
    const bash = await gate.request(
      { sessionId: session.id },
      { toolName: "Bash", toolInput: { command: "rm -rf build" }, policyName: "guard-shell" },
    );
    const write = await gate.request(
      { sessionId: session.id },
      { toolName: "Write", toolInput: { path: "/etc/hosts" }, policyName: "guard-files" },
    );
    await open(server.url, `#/sessions/${session.id}`);
    const pendingBash = page.locator(`.approvals li[data-approval-id="${bash.approvalId}"]`);
    const pendingWrite = page.locator(`.approvals li[data-approval-id="${write.approvalId}"]`);
    await pendingBash.getByText("rm -rf build").waitFor();
    await pendingWrite.getByText("/etc/hosts").waitFor();
    await page.screenshot({ path: join(ARTIFACTS, "dashboard-approval.png"), fullPage: true });

    await pendingBash.getByRole("button", { name: "Approve Bash" }).focus();
    await page.keyboard.press("Enter");
    // The decision comes back over the stream, and the request leaves the pending list.
    await page.locator('.timeline > li[data-type="tool_approval_granted"]').waitFor();
    await pendingBash.waitFor({ state: "detached" });
    await pendingWrite.getByRole("button", { name: "Deny Write" }).click();
    await page.locator('.timeline > li[data-type="tool_approval_denied"]').waitFor();
    await page.locator(".approvals").getByText("None.").waitFor();

    expect((await gate.get(session.id, bash.approvalId)).decision).toMatchObject({
      status: "granted",
      by: "dashboard",
    });
    expect((await gate.get(session.id, write.approvalId)).decision).toMatchObject({
      status: "denied",
      by: "dashboard",
      reason: "denied from the dashboard",
    });
    expect(await gate.pending(session.id)).toEqual([]);
    expect(pageErrors).toEqual([]);
  });

  it("renders tool calls, policy violations, errors and a run's diff summary, in light and dark", async () => {
    const { client, server, adapter, store } = await start();
    const session = await client.createSession({ agentId: "coding-agent", tags: ["demo"] });
    await open(server.url, `#/sessions/${session.id}`);
    await page.locator('[data-stream-state="live"]').waitFor();
    const { runId } = await client.submitRun(session.id, { input: { prompt: "fix the failing test" } });
    await page.locator('.timeline > li[data-type="message_streamed"]').waitFor();
    // What a coding agent's run logs, appended while the run is live.
    const event = (draft: Pick<EventDraft, "type" | "data">): EventDraft =>
      ({
        id: newId("evt"),
        sessionId: session.id,
        runId,
        timestamp: new Date().toISOString(),
        metadata: {},
        ...draft,
      }) as EventDraft;
    await store.appendEvents([
      event({
        type: "tool_call_started",
        data: { toolCallId: "t1", toolName: "Edit", toolInput: { path: "src/sum.ts", find: "a - b" } },
      }),
      event({
        type: "tool_call_completed",
        data: { toolCallId: "t1", toolName: "Edit", toolOutput: "1 replacement" },
      }),
      event({
        type: "policy_violation",
        data: { policy: "guard-shell", kind: "tool_denied", action: "ask", details: { toolName: "Bash" } },
      }),
      event({
        type: "error_occurred",
        data: { code: "provider_error", message: "a malformed line was skipped", fatal: false },
      }),
      event({
        type: "workspace_diff_computed",
        data: {
          filesChanged: 2,
          insertions: 5,
          deletions: 1,
          hasPatch: true,
          paths: ["src/sum.ts", "test/sum.test.ts"],
        },
      }),
    ]);
    const gate = new ApprovalGate(store);
    await gate.request(
      { sessionId: session.id, runId },
      {
        toolName: "Bash",
        toolInput: { command: "npm test" },
        policyName: "guard-shell",
        violationKind: "tool_denied",
      },
    );
    await page.locator(".approvals li").getByText("npm test").waitFor();
    const violation = page.locator('.timeline > li[data-type="policy_violation"]');
    expect(await violation.locator(".body").textContent()).toBe("guard-shell: tool_denied → ask");
    expect(await page.locator('.timeline > li[data-type="error_occurred"]').getAttribute("class")).toContain(
      "kind-error",
    );
    const toolCall = page.locator('.timeline > li[data-type="tool_call_started"]');
    await toolCall.getByText("Edit").click();
    await toolCall.getByText('"find": "a - b"').waitFor();

    adapter.release("fix the failing test");
    await page.locator(`.runs li[data-run-id="${runId}"] .status`, { hasText: "completed" }).waitFor();
    await page.locator(`.runs li[data-run-id="${runId}"] summary`).click();
    const diff = page.locator(`.runs li[data-run-id="${runId}"] .diff`);
    expect(await diff.locator("p").textContent()).toBe("2 files changed, +5 −1");
    expect(await diff.locator("li").allTextContents()).toEqual(["src/sum.ts", "test/sum.test.ts"]);
    await page.screenshot({ path: join(ARTIFACTS, "dashboard-overview-light.png"), fullPage: true });
    await page.emulateMedia({ colorScheme: "dark" });
    expect(await page.evaluate("getComputedStyle(document.body).backgroundColor")).toBe("rgb(13, 17, 23)");
    await page.screenshot({ path: join(ARTIFACTS, "dashboard-overview-dark.png"), fullPage: true });
    expect(pageErrors).toEqual([]);
  });

  it("keeps the newest 2000 events of a long session and says how many it left out", async () => {
    const { client, server, store } = await start();
    const session = await client.createSession({ agentId: "long-agent" });
    const drafts: EventDraft[] = Array.from({ length: 2100 }, (_, index) => ({
      id: newId("evt"),
      type: "message_received",
      sessionId: session.id,
      timestamp: new Date().toISOString(),
      metadata: {},
      data: { role: "assistant", content: `line ${index}` },
    }));
    await store.appendEvents(drafts);
    // The history spans three pages of the API (1000 each) before the stream takes over.
    const last = (await client.getEvents(session.id, { after: 2000, limit: 1000 })).items.at(-1)?.sequence;
    expect(last).toBe(2102);
    await open(server.url, `#/sessions/${session.id}`);
    await page.locator(`.timeline > li[data-sequence="${last}"]`).waitFor();
    const shown = await timelineSequences();
    expect(shown).toHaveLength(2000);
    expect(shown[0]).toBe((last ?? 0) - 1999);
    await page.getByText(`${(last ?? 0) - 2000} earlier events are not shown`).waitFor();
  });

  it("shows usage and cost per day, provider and model", async () => {
    const { client, server, adapter } = await start();
    const session = await client.createSession({ agentId: "usage-agent" });
    const { runId } = await client.submitRun(session.id, { input: { prompt: "usage-run" } });
    adapter.release("usage-run");
    await client.awaitRun(session.id, runId, { timeoutMs: WAIT_MS });
    await open(server.url, "#/usage");
    await page.getByRole("heading", { name: "Usage and cost" }).waitFor();
    const byModel = page.locator("figure", { has: page.getByText("By model", { exact: true }) });
    await byModel.getByText("gate-1").waitFor();
    expect(await byModel.locator(".bar-value").allTextContents()).toEqual([
      expect.stringMatching(/^5 tokens, .*, 1 runs$/),
    ]);
    const today = new Date().toISOString().slice(0, 10);
    const tokensPerDay = page.locator("figure", { has: page.getByText(/^Tokens per day/) });
    await tokensPerDay.locator("li", { hasText: today }).getByText("5 tokens").waitFor();
    await page.screenshot({ path: join(ARTIFACTS, "dashboard-usage.png"), fullPage: true });
    expect(pageErrors).toEqual([]);
  });
});

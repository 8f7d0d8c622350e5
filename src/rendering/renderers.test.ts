import { describe, expect, it } from "vitest";
import type { AsmEvent } from "../core/events.js";
import { render } from "./render.js";
import { CompactRenderer } from "./renderers/compact.js";
import { PassthroughRenderer } from "./renderers/passthrough.js";
import { StudioRenderer, type StudioRendererOptions } from "./renderers/studio.js";
import { formatSize, runningText, shortenPath, summaryText } from "./renderers/tool-summary.js";
import { VerboseRenderer } from "./renderers/verbose.js";
import { CallbackSink } from "./sinks/callback.js";
import { cancelRun, failureRun, recorder, textRun, toolRun } from "./test-support/recorded-runs.js";
import type { Renderer } from "./types.js";

/** Everything a renderer writes for `events`, through the pipeline, as one string. */
async function rendered(events: AsmEvent[], renderer: Renderer): Promise<string> {
  let text = "";
  const collect = (part: string) => {
    text += part;
  };
  await render(events, {
    renderer,
    sinks: [new CallbackSink({ callback: (_event, part) => collect(part), onText: collect })],
  });
  return text;
}

const studio = (options: StudioRendererOptions = {}) =>
  new StudioRenderer({ color: false, tty: false, ...options });

describe("CompactRenderer", () => {
  it("writes the seed's tokens: r+ model, >> text inline, msg, tk:in/out $cost, r-:reason, ?type, and a summary", async () => {
    expect(await rendered(textRun(), new CompactRenderer({ color: false }))).toBe(
      "?session_created ?session_started ?message_sent r+ sonnet-4-5 >> The BEAM is Erlang's VM.\nIt runs Elixir too.\n" +
        "msg The BEAM is Erlang's VM. It runs Elixir too. tk:120/45 $0.0012 r-:end $0.0012 ?session_completed\n" +
        "11 events, 0 tools\n",
    );
  });

  it("writes tools as t+Name / t-Name with a one-line output preview", async () => {
    expect(await rendered(toolRun(), new CompactRenderer({ color: false }))).toBe(
      "r+ sonnet-4-5 >> Let me look.\n" +
        "t+Read t-Read tr:line 1 line 2 line 3 line 4 t+Bash t-Bash tr:ok 1 ok 2 all passed msg All tests pass. r-:end\n" +
        "8 events, 2 tools\n",
    );
  });

  it("writes failures and a cancel as ! tokens", async () => {
    expect(await rendered(failureRun(), new CompactRenderer({ color: false }))).toBe(
      "r+ t+Bash t-Bash ! the command exited with code 2 ! the agent gave up ! the agent gave up\n5 events, 1 tools\n",
    );
    expect(await rendered(cancelRun(), new CompactRenderer({ color: false }))).toBe(
      "r+ gpt-5-codex >> Working on it\nt+Grep ! cancelled\n4 events, 1 tools\n",
    );
  });

  it("colours tokens, and only tokens, when asked", async () => {
    const text = await rendered(cancelRun(), new CompactRenderer({ color: true }));
    expect(text).toContain(
      "\u001b[34mr+\u001b[0m \u001b[35mgpt-5-codex\u001b[0m \u001b[35m>>\u001b[0m Working on it",
    );
    expect(text).toContain("\u001b[31m!\u001b[0m \u001b[2mcancelled\u001b[0m");
  });
});

describe("VerboseRenderer", () => {
  it("writes a [type] key=value line per event ending with its sequence, streamed text inline", async () => {
    expect(await rendered(textRun(), new VerboseRenderer({ color: false }))).toBe(
      [
        "[session_created] provider=claude seq=1",
        "[session_started] seq=2",
        "[message_sent] role=user content=What is the BEAM? seq=3",
        "[run_started] model=claude-sonnet-4-5-20250929 session_id=ses_1 run_id=run_1 seq=4",
        "The BEAM is Erlang's VM.",
        "It runs Elixir too.",
        "[message_received] role=assistant content=The BEAM is Erlang's VM.\\nIt runs Elixir too. seq=8",
        "[token_usage] input=120 output=45 cost=$0.00123 seq=9",
        "[run_completed] stop_reason=end_turn tokens=120/45 duration_ms=1500 cost=$0.00123 seq=10",
        "[session_completed] seq=11",
        "--- 11 events, 0 tools ---",
        "",
      ].join("\n"),
    );
  });

  it("writes tool inputs as JSON and outputs on their line", async () => {
    expect(await rendered(toolRun(), new VerboseRenderer({ color: false }))).toBe(
      [
        "[run_started] model=claude-sonnet-4-5-20250929 session_id=ses_1 run_id=run_1 seq=1",
        "Let me look.",
        '[tool_call_started] name=Read id=tu_1 input={"file_path":"src/a.ts"} seq=3',
        "[tool_call_completed] name=Read output=line 1\\nline 2\\nline 3\\nline 4\\n seq=4",
        '[tool_call_started] name=Bash id=tu_2 input={"command":"npm test"} seq=5',
        "[tool_call_completed] name=Bash output=ok 1\\nok 2\\n\\nall passed\\n seq=6",
        "[message_received] role=assistant content=All tests pass. seq=7",
        "[run_completed] stop_reason=end_turn tokens=120/45 duration_ms=4200 seq=8",
        "--- 8 events, 2 tools ---",
        "",
      ].join("\n"),
    );
  });

  it("writes failures and a cancel with their codes and reasons", async () => {
    expect(await rendered(failureRun(), new VerboseRenderer({ color: false }))).toBe(
      [
        "[run_started] model=unknown session_id=ses_1 run_id=run_1 seq=1",
        '[tool_call_started] name=Bash id=tu_1 input={"command":"make"} seq=2',
        "[tool_call_failed] name=Bash error_message=the command exited with code 2 seq=3",
        "[error] error_code=provider_error error_message=the agent gave up seq=4",
        "[run_failed] error_code=provider_error error_message=the agent gave up seq=5",
        "--- 5 events, 1 tools ---",
        "",
      ].join("\n"),
    );
    expect(await rendered(cancelRun(), new VerboseRenderer({ color: false }))).toBe(
      [
        "[run_started] model=gpt-5-codex session_id=ses_1 run_id=run_1 seq=1",
        "Working on it",
        '[tool_call_started] name=Grep id=tu_1 input={"pattern":"TODO","path":"src"} seq=3',
        "[run_cancelled] reason=interrupted seq=4",
        "--- 4 events, 1 tools ---",
        "",
      ].join("\n"),
    );
  });

  it("cuts inputs at 120 characters and keeps every value on its line", async () => {
    const r = recorder();
    r.add("tool_call_started", {
      toolCallId: "t",
      toolName: "Write",
      toolInput: { content: "x".repeat(300) },
    });
    r.add("policy_violation", {
      policy: "p",
      kind: "tool_denied",
      action: "cancel",
      details: { tool: "Bash\nrm" },
    });
    const lines = (await rendered(r.events, new VerboseRenderer({ color: false }))).split("\n");
    expect(lines[0]).toBe(`[tool_call_started] name=Write id=t input={"content":"${"x".repeat(107)}… seq=1`);
    expect(lines[1]).toBe(
      '[policy_violation] policy=p kind=tool_denied action=cancel details={"tool":"Bash\\nrm"} seq=2',
    );
  });
});

describe("StudioRenderer off a terminal", () => {
  it("writes ● lines, an indented text block and the run's closing ✓ line; no cursor control", async () => {
    const text = await rendered(textRun(), studio());
    expect(text).toBe(
      [
        "  ● session ses_1 created (claude)",
        "  ● session started",
        "  ● prompt: What is the BEAM?",
        "  ● run run_1 started · claude-sonnet-4-5-20250929",
        "",
        "  The BEAM is Erlang's VM.",
        "  It runs Elixir too.",
        "",
        "  ✓ run completed · end_turn · 1500 ms · 120 in / 45 out tokens · $0.0012",
        "  ● session completed",
        "",
      ].join("\n"),
    );
    expect(text).not.toContain("\u001b");
    expect(text).not.toContain("\r");
  });

  it("writes ◐ when a tool starts and its ✓ summary when it ends, with a preview of its last 3 lines", async () => {
    expect(await rendered(toolRun(), studio({ toolOutput: "preview" }))).toBe(
      [
        "  ● run run_1 started · claude-sonnet-4-5-20250929",
        "",
        "  Let me look.",
        "",
        "  ◐ Reading src/a.ts",
        "  ✓ Read src/a.ts (4 lines)",
        "    │ line 2",
        "    │ line 3",
        "    │ line 4",
        "  ◐ Running: npm test",
        "  ✓ Ran: npm test (exit 0, 22 chars, 3.5s)",
        "    │ ok 1",
        "    │ ok 2",
        "    │ all passed",
        "  ✓ run completed · end_turn · 4200 ms · 120 in / 45 out tokens · 2 tools",
        "",
      ].join("\n"),
    );
  });

  it("shows all of a tool's output with toolOutput full, none with summary", async () => {
    const full = await rendered(toolRun(), studio({ toolOutput: "full" }));
    expect(full).toContain(
      "  ✓ Read src/a.ts (4 lines)\n    ┊ line 1\n    ┊ line 2\n    ┊ line 3\n    ┊ line 4\n",
    );
    const summary = await rendered(toolRun(), studio());
    expect(summary).toContain("  ✓ Read src/a.ts (4 lines)\n  ◐ Running: npm test\n");
  });

  it("writes ✗ for a failed command with its exit code, the error and the failed run", async () => {
    expect(await rendered(failureRun(), studio({ toolOutput: "preview" }))).toBe(
      [
        "  ● run run_1 started",
        "  ◐ Running: make",
        "  ✗ Bash failed: make (exit 2, 18 chars)",
        "    │ make: *** No rule",
        "  ✗ [provider_error] the agent gave up",
        "  ✗ run failed [provider_error] the agent gave up",
        "",
      ].join("\n"),
    );
  });

  it("ends a cancelled run's half-written text and its unfinished tool", async () => {
    expect(await rendered(cancelRun(), studio())).toBe(
      [
        "  ● run run_1 started · gpt-5-codex",
        "",
        "  Working on it",
        "",
        '  ◐ Searching "TODO" in src',
        "  ✗ Grep did not finish",
        "  ✗ run cancelled: interrupted",
        "",
      ].join("\n"),
    );
  });

  it("numbers every line with its event's sequence when asked, streamed lines too", async () => {
    expect(await rendered(textRun().slice(3, 8), studio({ sequence: true, indent: 0 }))).toBe(
      "#4 ● run run_1 started · claude-sonnet-4-5-20250929\n\n#5 The BEAM is Erlang's VM.\n#6 It runs Elixir too.\n\n",
    );
  });

  it("neutralises provider text: no escape sequence reaches the terminal", async () => {
    const r = recorder();
    r.add("message_streamed", { delta: "\u001b[2J\u001b]0;title\u0007hi" });
    r.add("tool_call_failed", { toolCallId: "t1", toolName: "Read", errorMessage: "bad \u001b[31mred" });
    expect(await rendered(r.events, studio({ color: true }))).toBe(
      "  \\x1b[2J\\x1b]0;title\\x07hi\n\n  \u001b[31m✗\u001b[0m Read failed: bad \\x1b[31mred\n",
    );
  });

  it("cuts status lines to the given width", async () => {
    const text = await rendered(toolRun(), studio({ columns: 30 }));
    expect(text).toContain("  ✓ Ran: npm test (exit 0, 2…\n");
    for (const line of text.split("\n")) expect(Array.from(line).length).toBeLessThanOrEqual(29);
  });
});

describe("StudioRenderer on a terminal", () => {
  it("draws the running tool as one line, replaced in place by its summary", async () => {
    const text = await rendered(toolRun(), studio({ tty: true, columns: 80, showSpinner: false }));
    expect(text).toBe(
      "  ● run run_1 started · claude-sonnet-4-5-20250929\n\n  Let me look.\n\n" +
        "  ● Reading src/a.ts\r\u001b[2K  ✓ Read src/a.ts (4 lines)\n" +
        "  ● Running: npm test\r\u001b[2K  ✓ Ran: npm test (exit 0, 22 chars, 3.5s)\n" +
        "  ✓ run completed · end_turn · 4200 ms · 120 in / 45 out tokens · 2 tools\n",
    );
  });

  it("turns the spinner on each tick while a tool runs, and only then", () => {
    const renderer = studio({ tty: true, columns: 80 });
    expect(renderer.tickIntervalMs).toBeGreaterThan(0);
    const [started] = toolRun().slice(2, 3);
    expect(renderer.tick()).toBe("");
    expect(renderer.render(started as AsmEvent)).toBe("  ◐ Reading src/a.ts");
    expect([renderer.tick(), renderer.tick(), renderer.tick(), renderer.tick()]).toEqual([
      "\r\u001b[2K  ◓ Reading src/a.ts",
      "\r\u001b[2K  ◑ Reading src/a.ts",
      "\r\u001b[2K  ◒ Reading src/a.ts",
      "\r\u001b[2K  ◐ Reading src/a.ts",
    ]);
    expect(renderer.finish()).toBe("\r\u001b[2K");
    expect(renderer.tick()).toBe("");
    expect(studio({ tty: false }).tickIntervalMs).toBeUndefined();
  });

  it("keeps the running line last while several tools run, text erasing it", async () => {
    const r = recorder();
    r.add("tool_call_started", { toolCallId: "a", toolName: "Glob", toolInput: { pattern: "*.ts" } });
    r.add("tool_call_started", {
      toolCallId: "b",
      toolName: "WebFetch",
      toolInput: { url: "https://example.com/x" },
    });
    r.add("tool_call_completed", { toolCallId: "a", toolName: "Glob", toolOutput: "a.ts\nb.ts" });
    r.add("message_streamed", { delta: "hm" });
    r.add("tool_call_completed", { toolCallId: "b", toolName: "WebFetch", toolOutput: "page" });
    expect(await rendered(r.events, studio({ tty: true, columns: 80, showSpinner: false }))).toBe(
      "  ● Searching for *.ts" +
        "\r\u001b[2K  ● Fetching example.com (+1 more)" +
        "\r\u001b[2K  ✓ Found 2 files matching *.ts\n  ● Fetching example.com" +
        "\r\u001b[2K\n  hm" +
        "\n\n  ✓ WebFetch complete (4 chars)\n",
    );
  });
});

describe("tool summaries", () => {
  it("describe each known tool running and done", () => {
    const cases: [string, Record<string, unknown>, unknown, string, string][] = [
      ["Bash", { command: "ls -la" }, "a\nb", "Running: ls -la", "Ran: ls -la (exit 0, 3 chars)"],
      ["Read", { file_path: "/a/b.ts" }, "x\ny\n", "Reading /a/b.ts", "Read /a/b.ts (2 lines)"],
      ["Write", { file_path: "c.md", content: "1\n2\n3" }, "", "Writing c.md", "Wrote c.md (3 lines)"],
      ["Edit", { changes: [{ path: "d.ts", kind: "update" }] }, {}, "Editing d.ts", "Edited d.ts"],
      [
        "Glob",
        { pattern: "**/*.ts" },
        "a.ts\nb.ts\nc.ts",
        "Searching for **/*.ts",
        "Found 3 files matching **/*.ts",
      ],
      [
        "Grep",
        { pattern: "TODO", path: "src" },
        "a:1\nb:2",
        'Searching "TODO" in src',
        'Found 2 matches for "TODO"',
      ],
      ["Task", { description: "review" }, "done", "Running task: review", "Task complete: review"],
      [
        "WebFetch",
        { url: "https://docs.example.org/p" },
        "page",
        "Fetching docs.example.org",
        "WebFetch complete (4 chars)",
      ],
      ["WebSearch", { query: "vitest 4" }, "", 'Searching: "vitest 4"', "WebSearch complete"],
      ["mcp__x__y", {}, null, "Using mcp__x__y", "mcp__x__y complete"],
      [
        "shell",
        { command: ["sleep", "2"] },
        { exitCode: 0, durationMs: 2000 },
        "Running: sleep 2",
        "Ran: sleep 2 (exit 0)",
      ],
    ];
    for (const [name, input, output, running, summary] of cases) {
      expect(runningText({ name, input })).toBe(running);
      expect(summaryText({ name, input, output, failed: false })).toBe(summary);
    }
  });

  it("sizes and paths", () => {
    expect([formatSize(0), formatSize(999), formatSize(1500), formatSize(12_345)]).toEqual([
      "",
      "999 chars",
      "1.5k chars",
      "12k chars",
    ]);
    expect(shortenPath(`/home/user/${"deep/".repeat(12)}src/a.ts`)).toBe("/…/src/a.ts");
    expect(shortenPath("src/a.ts")).toBe("src/a.ts");
  });
});

describe("PassthroughRenderer", () => {
  it("renders nothing", async () => {
    expect(await rendered(toolRun(), new PassthroughRenderer())).toBe("");
  });
});

import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";

// Every example runs as a user would run it (default mode: the scripted CLIs), so none can rot.
const ROOT = fileURLToPath(new URL("..", import.meta.url));
const run = promisify(execFile);

/** Each example and lines its output must contain: what it exists to show. */
const EXAMPLES: Record<string, RegExp[]> = {
  "provider-routing.ts": [/^routed to claude$/m, /"failoverFrom":"primary"/],
  "policy-enforcement.ts": [
    /run failed: policy_violation: .*tool Bash is denied/,
    /run completed: .*\nviolations reported: 1/,
  ],
  "routing-v2.ts": [/^carol -> \{"routedProvider":"claude","attempt":1/m, /^breaker primary: open/m],
  "policy-v2.ts": [
    /allow Bash \+ deny Bash: rejected \(contradictory_rules\)/,
    /scripted claude CLI was started with --disallowedTools=Bash$/m,
    /scripted codex CLI was started with features\.shell_tool=false$/m,
    /scripted amp CLI was started with a settings file with amp\.tools\.disable \["Bash"\]$/m,
    /maxCostUsd exceeded/,
  ],
  "approval-gates.ts": [/approval requested: Bash/, /run cancelled: waiting for approval/, /^ {2}resumed: /m],
  "advanced-patterns.ts": [
    /^ {2}run 1 on (\w+), run 2 on \1 \(sticky\)$/m,
    /^ {2}run 2: continuation auto -> replay, 2 messages carried$/m,
    /^ {2}answer: The code is X-42\.$/m,
    /^ {2}scripted claude: its stdin began with the replayed conversation$/m,
    /^ {2}1 files changed \(tests\/parser\.test\.ts\); patch of \d+ bytes in the artifact store as workspace\/patches\/\S+\.patch$/m,
    /^ {2}run 2: failed: policy_violation: .*maxTotalTokens exceeded/m,
    /^ {2}rolled back: 1 removed, \d+ restored; src\/rewrite\.ts gone$/m,
    /^ {2}run 2's patch kept in the artifact store as workspace\/patches\/\S+\.patch/m,
  ],
  "stream-session.ts": [
    /^ {2}result: The BEAM is the Erlang virtual machine\.$/m,
    /r\+ .*r-:end.*\n\d+ events, 0 tools\n {2}rendered \d+ events, result: The BEAM is/,
    /^ {2}stream ended: error_occurred timeout: stream idle timeout after 50 ms$/m,
    /^ {2}after close: run cancelled, session cancelled, the given store still open$/m,
  ],
  "session-runtime.ts": [
    /^submitted 3 runs: 1 in flight, 2 queued$/m,
    /^the runs executed one after another, in FIFO order$/m,
    /^awaiting an unknown run: run_not_found$/m,
  ],
  "session-subscription.ts": [
    /^== resumed from cursor \d+: run 2, which ran while unsubscribed$/m,
    /^delivered 8 events across the reconnect: no gap, no duplicate$/m,
  ],
  "session-limiter.ts": [
    /^a third server: max_sessions_exceeded$/m,
    /^ {2}run on server \d started: sessions 2\/2, runs 1\/1/m,
    /^the runs executed one at a time across the two servers$/m,
    /^all closed: sessions 0\/2, runs 0\/1 \(0 waiting\)$/m,
  ],
  "session-concurrency.ts": [
    /^submitted 4: in flight 2, queued 2$/m,
    /^drained: in flight 0, queued 0, at most 2 at once$/m,
    /^log: 4 runs started, the queued ones after the first two, at most 2 overlapping$/m,
  ],
  "interactive-interrupt.ts": [
    /^run 1: cancelled \(interrupted: true\)$/m,
    /^runs: cancelled, completed; session active$/m,
    /^run 2 resumed the provider's session [\w-]+$/m,
  ],
  "advanced-patterns-runtime.ts": [
    /^-- UI disconnected at cursor 6; the runs go on$/m,
    /^UI handled \d+ events, the whole log once each; runs overlapped: true$/m,
    /^ {2}#\d+ Workspace: \d files changed, \+\d+ -0: .*tests\/parser\.test\.ts.*, patch inline/m,
    /^follow-up: continuation auto -> native: /m,
  ],
  "oneshot.ts": [
    /^answer: The BEAM is/m,
    /^session completed, run completed on claude$/m,
    /^log: \d+ events, sequences 1\.\.\d+ contiguous$/m,
  ],
  "live-session.ts": [
    /^session: pending -> active -> paused -> active -> completed$/m,
    /^session events: session_created session_started session_paused session_resumed session_completed$/m,
  ],
  "common-surface.ts": [
    /^claude: answer "The directory is \/work\.", \d+ tokens, tools \[Bash\]$/m,
    /^codex: answer .*tools \[Bash\]$/m,
    /^amp: answer .*tools \[Bash\]$/m,
    /^common surface: 3 providers, the same 5 event types$/m,
  ],
  "contract-surface-live.ts": [
    /^amp: errors ok \(validation_error, validation_error, invalid_transition, invalid_status, session_not_found\)$/m,
    /^contract surface: all checks passed$/m,
  ],
  "claude-direct.ts": [
    /^run 2 resumed Claude session [\w-]+, cost 0\.003 USD$/m,
    /^scripted claude CLI: --max-turns=3 --permission-mode=plan; then --resume [\w-]+$/m,
  ],
  "codex-direct.ts": [
    /^run 1 structured output: \{"language":"TypeScript","files":2\}$/m,
    /^run 2 resumed thread [\w-]+: 1800 tokens in, 120 out$/m,
    /^scripted codex CLI: --sandbox read-only --output-schema …; then resume [\w-]+$/m,
  ],
  "amp-direct.ts": [
    /^run 1 on thread T-[\w-]+, model claude-sonnet-4-5, cost 0\.\d+ USD$/m,
    /^scripted amp CLI: --mode rush --stream-json-thinking --settings-file \(\d+ rules, last: \* reject\)$/m,
    /^then: threads continue T-[\w-]+$/m,
  ],
  "cursor-pagination.ts": [
    /^latest sequence: (\d+) \(\1 events, contiguous from 1\)$/m,
    /^pages of 4: \d+ pages, \d+ events, each resumed at cursor \+ 1$/m,
    /^window after 3 before 8: #4 #5 #6 #7$/m,
    /^after \d+: invalid_cursor$/m,
  ],
  "cursor-follow-stream.ts": [/^cursor: 7$/m, /^followed from 7: #8\.\.#15 contiguous, 8 events$/m],
  "workspace-snapshot.ts": [
    /^run 1: 2 files changed, \+2 -0: README\.md, notes\.txt \(git\)$/m,
    /^run 2: patch of \d+ bytes stored as workspace\/patches\/\S+\.patch$/m,
    /^run 3: failed: policy_violation; rolled back: 1 removed, \d+ restored$/m,
    /^HEAD, index and stash untouched: true$/m,
  ],
  "session-continuity.ts": [
    /^run 2 \(auto\) on claude: native, resumed [\w-]+$/m,
    /^ {2}scripted claude: it was started with --resume=[\w-]+$/m,
    /^run 3 \(replay\) on claude: replay, 4 messages/m,
    /^run 4 \(auto, switched\) on codex: replay, 6 messages .* from 3 runs$/m,
    /^ {2}scripted codex: its stdin began with the replayed conversation$/m,
  ],
  "cursor-wait-follow.ts": [
    /^quiet log: a 200 ms long-poll after #2 answered \[\]/m,
    /^reader 2: resumed after #4, \d+ events/m,
    /^resumed exactly: #3\.\.#10, no gap, no duplicate$/m,
  ],
  "permission-mode.ts": [
    /^claude full_auto -> --permission-mode=acceptEdits$/m,
    /^claude dangerously_skip_permissions -> --permission-mode=bypassPermissions --allow-dangerously-skip-permissions$/m,
    /^codex plan -> --sandbox read-only approval_policy="never"$/m,
    /^amp dangerously_skip_permissions -> settings file: dangerouslyAllowAll=true/m,
    /^full_auto keeps each provider's guard rails$/m,
  ],
  "cost-tracking.ts": [
    /^claude: .* cost 0\.002$/m,
    /^codex: .*model gpt-5\.1-codex, cost 0\.0325$/m,
    /^amp: .*cost unknown \(no price for model "acme-coder-1"/m,
    /^amp with a custom pricing table: cost 0\.018$/m,
    /^usage summary: 4 runs, \$0\.052500, 1 unpriced/m,
    /^budget \$0\.001: policy_violation/m,
  ],
  "secrets-redaction.ts": [
    /^redaction on: 0 of 4 secrets in the database file, 0 in stored events$/m,
    /^redaction off: 4 of 4 secrets in the database file$/m,
    /^Redactor: token \[REDACTED:github_token\]/m,
  ],
  "sqlite-session-store-live.ts": [
    /^2 connections x 20 concurrent appends: sequences 9\.\.48, all distinct$/m,
    /^appending evt_\w+ again: the stored event #9 \(idempotent\)$/m,
    /^after reopening: session completed \[sqlite-demo\], 1 run completed, 48 events 1\.\.48$/m,
    /^cursor 10 after the restart: #11 #12 #13 #14 #15$/m,
    /^health check: ok/m,
  ],
  "composite-store-live.ts": [
    /^sessions -> sqlite: session ses_\w+, 8 events$/m,
    /^artifacts -> files: exports\/ses_\w+\.json \(\d+ bytes, application\/json, sha256 [0-9a-f]{12}…\)$/m,
    /^after close: storage_error, storage_error, storage_error, storage_connection_failed$/m,
  ],
  "s3-artifact-store-live.ts": [
    /^object: s3:\/\/asm-artifacts\/team-a\/artifacts\/runs\/run_\w+\/events\.jsonl \(ObjectCreated:Put\)$/m,
    /^missing key: get -> not_found, head -> null$/m,
    /^delete: gone, and a second delete is a no-op$/m,
    /^large: 6291456 bytes, uploaded in parts \(ObjectCreated:Post\), read back intact$/m,
  ],
  "persistence-query.ts": [
    /^search: agent reviewer 3, status failed 1, tag ci 3, provider claude 2, completed fixers 3$/m,
    /^pages of 2: 4 pages, 7 sessions, no duplicate$/m,
    /^usage: 6 runs, .*amp 2 runs, claude 2 runs, codex 2 runs$/m,
    /^event search: 6 tool_call_completed events in 6 runs$/m,
    /^export -> import: \d+ events, same ids and sequences$/m,
  ],
  "persistence-maintenance.ts": [
    /^retention: 2 soft-deleted, 1 hard-deleted, 3 events pruned$/m,
    /^visible: old-pinned, recent; soft-deleted: old-completed, old-failed$/m,
    /^health check: ok, 0 issues$/m,
    /^recovery: run of a dead process -> failed/m,
  ],
  "persistence-multi-run.ts": [
    /^session log: (\d+) events, #1\.\.#\1 contiguous across 3 runs$/m,
    /^stats: 3 runs, \d+ events, providers amp, claude, codex$/m,
    /^health check: ok$/m,
  ],
  "telemetry.ts": [
    /^span "invoke_agent file-counter": provider claude, conversation ses_\w+, tokens 2400 in \/ 160 out$/m,
    /^span "execute_tool Bash": call \w+, child of the run span$/m,
    /^failed run span: status ERROR, error\.type provider_unavailable$/m,
    /^gen_ai\.client\.token\.usage: .*input 2400.*output 160/m,
  ],
  "workflow-bridge.ts": [
    /^one-shot step: ".+", session completed \(workflow-agent\)$/m,
    /^step plan on the down provider: provider_unavailable -> failover$/m,
    /^workflow: 2 steps done, runs failed, completed, failed, completed; session active$/m,
    /^completeWorkflowSession: completed$/m,
    /^policy stop: policy_violation -> cancel$/m,
  ],
  "persistence-live.ts": [
    /^run completed on claude, model claude-sonnet-4-5, cost 0\.002$/m,
    /^usage: 2400 in, 160 out \(as its token_usage_updated events reported\)$/m,
    /onEvent 8, follower on a second connection 8, file 8 — the same$/m,
  ],
  "rendering-compact.ts": [/^checked: r\+ t\+Bash t-Bash msg r-:end in order, then "8 events, 1 tools"$/m],
  "rendering-verbose.ts": [
    /^\[run_completed\] stop_reason=end_turn tokens=2400\/160 duration_ms=\d+ cost=\$0\.002 seq=10$/m,
    /^checked: 11 bracketed lines in sequence order for 11 events$/m,
  ],
  "rendering-multi-sink.ts": [
    /^# compact rendering of session ses_\w+\n\?message_sent r\+ sonnet-4-5 t\+Bash /m,
    /^checked: 8 events to 5 sinks; log plain, JSONL full = the log, compact abbreviated, files 0600$/m,
  ],
  "rendering-callback.ts": [
    /^text: 0 bytes streamed; tools: Bash$/m,
    /^checked: the callback's statistics agree with the run's result$/m,
  ],
  "rendering-studio.ts": [
    /^ {2}✓ Ran: npm test \(exit 0, \d+ chars\)\n {4}┊ ok 1 parses$/m,
    /^checked: 8 run events in three tool-output modes, no escape sequence off a terminal$/m,
  ],
  "pubsub-sink.ts": [
    /^redis: live subscriber got 8 events #3\.\.#10, ending with run_completed$/m,
    /^nats: late subscriber resumed after #\d+: \d+ events, no gap, no duplicate$/m,
    /^nats: PubSubSink on asm:session:<session>:type:run_completed: run_completed #10/m,
  ],
};

describe("examples (scripted CLIs)", () => {
  for (const [file, expected] of Object.entries(EXAMPLES)) {
    it(file, { timeout: 120_000 }, async () => {
      const { stdout } = await run(process.execPath, ["--import", "tsx", `examples/${file}`], {
        cwd: ROOT,
        timeout: 110_000,
      });
      for (const line of expected) expect(stdout).toMatch(line);
    });
  }

  it("an unknown --provider fails with one line and a hint, before anything runs", async () => {
    const failure = await run(
      process.execPath,
      ["--import", "tsx", "examples/policy-v2.ts", "--provider", "gpt"],
      {
        cwd: ROOT,
      },
    ).catch((error: unknown) => error);
    expect(failure).toMatchObject({ code: 2, stdout: "" });
    expect(failure).toMatchObject({
      stderr: expect.stringMatching(/unknown provider "gpt" \[validation_error\]\n {2}hint:/),
    });
  });
});

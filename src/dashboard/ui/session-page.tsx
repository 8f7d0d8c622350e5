import { useCallback, useEffect, useMemo, useRef, useState } from "preact/hooks";
import type { AsmClient, SessionDetail, SubmitRunInput } from "../../client/index.js";
import type { AsmEvent, EventOf } from "../../core/events.js";
import type { Run } from "../../core/run.js";
import type { ApprovalRequest } from "../../policy/approvals.js";
import { BarChart } from "./chart.js";
import { ErrorNote } from "./error-note.js";
import { cost, duration, json, time, tokens } from "./format.js";
import { type ApprovalActions, DecisionButtons, Timeline } from "./timeline.js";

/** Largest page of history read before the live stream takes over (the API's maximum). */
const HISTORY_PAGE = 1000;
/** Events the timeline keeps (the newest): a long session must not grow the page without bound. */
const TIMELINE_LIMIT = 2000;
const RUN_EVENTS = new Set(["run_started", "run_completed", "run_failed", "run_cancelled", "run_timeout"]);

type StreamState = "loading" | "live" | "reconnecting" | "ended" | "failed";

/**
 * The session's log: history by pages, then the SSE stream from the last sequence read. Events
 * are kept once per sequence, so neither a reconnect nor the hand-over can show one twice.
 */
function useEventLog(client: AsmClient, sessionId: string, onEvent: (event: AsmEvent) => void) {
  const [events, setEvents] = useState<AsmEvent[]>([]);
  const [received, setReceived] = useState(0);
  const [state, setState] = useState<StreamState>("loading");
  const [error, setError] = useState<unknown>();
  const onEventRef = useRef(onEvent);
  onEventRef.current = onEvent;

  useEffect(() => {
    const abort = new AbortController();
    const seen = new Set<number>();
    const add = (batch: AsmEvent[]) => {
      const fresh = batch.filter((event) => !seen.has(event.sequence));
      for (const event of fresh) seen.add(event.sequence);
      if (fresh.length === 0) return;
      setReceived((count) => count + fresh.length);
      setEvents((previous) => [...previous, ...fresh].slice(-TIMELINE_LIMIT));
      for (const event of fresh) onEventRef.current(event);
    };
    (async () => {
      let cursor = 0;
      for (;;) {
        const page = await client.getEvents(sessionId, { after: cursor, limit: HISTORY_PAGE });
        add(page.items);
        cursor = page.cursor;
        if (page.items.length < HISTORY_PAGE) break;
      }
      setState("live");
      for await (const event of client.events(sessionId, {
        after: cursor,
        signal: abort.signal,
        onReconnect: () => setState("reconnecting"),
      })) {
        setState("live");
        add([event]);
      }
      if (!abort.signal.aborted) setState("ended");
    })().catch((reason: unknown) => {
      if (abort.signal.aborted) return;
      setError(reason);
      setState("failed");
    });
    return () => abort.abort();
  }, [client, sessionId]);

  return { events, hidden: received - events.length, state, error };
}

export function SessionPage({ client, sessionId }: { client: AsmClient; sessionId: string }) {
  const [detail, setDetail] = useState<SessionDetail>();
  const [runs, setRuns] = useState<Run[]>([]);
  const [pending, setPending] = useState<ApprovalRequest[]>([]);
  const [error, setError] = useState<unknown>();

  const refreshRuns = useCallback(() => {
    client.getSession(sessionId).then(setDetail, setError);
    client.listRuns(sessionId).then((page) => setRuns(page.items), setError);
  }, [client, sessionId]);
  const refreshApprovals = useCallback(() => {
    client.pendingApprovals(sessionId).then((page) => setPending(page.items), setError);
  }, [client, sessionId]);
  useEffect(() => {
    refreshRuns();
    refreshApprovals();
  }, [refreshRuns, refreshApprovals]);

  const log = useEventLog(
    client,
    sessionId,
    useCallback(
      (event: AsmEvent) => {
        if (RUN_EVENTS.has(event.type)) refreshRuns();
        if (event.type.startsWith("tool_approval_")) refreshApprovals();
      },
      [refreshRuns, refreshApprovals],
    ),
  );

  const approvals: ApprovalActions = useMemo(
    () => ({
      pending: new Map(pending.map((request) => [request.approvalId, request])),
      decide: (approvalId, decision) => {
        const call =
          decision === "approve"
            ? client.approve(sessionId, approvalId, { by: "dashboard" })
            : client.deny(sessionId, approvalId, { by: "dashboard", reason: "denied from the dashboard" });
        call.then(refreshApprovals, setError);
      },
    }),
    [client, sessionId, pending, refreshApprovals],
  );

  const session = detail?.session;
  return (
    <section aria-labelledby="session-title">
      <p>
        <a href="#/">← Sessions</a>
      </p>
      <h1 id="session-title">
        Session <code>{sessionId}</code>
      </h1>
      <ErrorNote error={error} />
      {session && detail ? (
        <dl class="facts">
          <dt>Status</dt>
          <dd>
            <span class={`status status-${session.status}`}>{session.status}</span>
          </dd>
          <dt>Agent</dt>
          <dd>{session.agentId}</dd>
          <dt>Runs</dt>
          <dd>{detail.stats.runCount}</dd>
          <dt>Events</dt>
          <dd>{detail.stats.eventCount}</dd>
          <dt>Tokens</dt>
          <dd>{tokens(detail.stats.tokenUsage)}</dd>
          <dt>Cost</dt>
          <dd>{cost(detail.stats.costUsd)}</dd>
          <dt>Updated</dt>
          <dd>{time(session.updatedAt)}</dd>
        </dl>
      ) : null}

      <section aria-labelledby="approvals-title" class="approvals">
        <h2 id="approvals-title">Pending approvals</h2>
        {pending.length === 0 ? (
          <p>None.</p>
        ) : (
          <ul>
            {pending.map((request) => (
              <li key={request.approvalId} data-approval-id={request.approvalId}>
                <strong>{request.toolName}</strong> asked by {request.policyName}
                {request.expiresAt ? <> · expires {time(request.expiresAt)}</> : null}
                {request.toolInput ? <pre>{json(request.toolInput, 500)}</pre> : null}
                <DecisionButtons
                  approvalId={request.approvalId}
                  toolName={request.toolName}
                  approvals={approvals}
                />
              </li>
            ))}
          </ul>
        )}
      </section>

      {session?.status === "active" ? <SubmitRunForm client={client} sessionId={sessionId} /> : null}

      <section aria-labelledby="runs-title">
        <h2 id="runs-title">Runs</h2>
        {runs.length === 0 ? <p>No runs yet.</p> : <RunList runs={runs} events={log.events} />}
        {runs.some((run) => run.endedAt) ? <RunCostChart runs={runs} /> : null}
      </section>

      <section aria-labelledby="timeline-title">
        <h2 id="timeline-title">
          Timeline{" "}
          <span class={`stream-state state-${log.state}`} data-stream-state={log.state} aria-live="polite">
            {log.state}
          </span>
        </h2>
        <ErrorNote error={log.error} />
        {log.hidden > 0 ? (
          <p>
            {log.hidden} earlier events are not shown (the page keeps the last {TIMELINE_LIMIT});{" "}
            <code>asm events</code> or the API's event pages have them all.
          </p>
        ) : null}
        <Timeline events={log.events} approvals={approvals} />
      </section>
    </section>
  );
}

function SubmitRunForm({ client, sessionId }: { client: AsmClient; sessionId: string }) {
  const [mode, setMode] = useState<"prompt" | "command">("prompt");
  const [text, setText] = useState("");
  const [model, setModel] = useState("");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>();
  const [submitted, setSubmitted] = useState<string>();

  const onSubmit = async (event: Event) => {
    event.preventDefault();
    // A command is an argv, one argument per line: it is never handed to a shell.
    const args = text.split("\n").filter((line) => line.length > 0);
    const input: SubmitRunInput = {
      input: mode === "prompt" ? { prompt: text } : { command: args },
      ...(model.trim() ? { model: model.trim() } : {}),
    };
    setBusy(true);
    try {
      const result = await client.submitRun(sessionId, input);
      setSubmitted(result.runId);
      setText("");
      setError(undefined);
    } catch (reason) {
      setError(reason);
    } finally {
      setBusy(false);
    }
  };

  return (
    <form class="card submit-run" onSubmit={onSubmit} aria-labelledby="submit-title">
      <h2 id="submit-title">New run</h2>
      <fieldset>
        <legend>Input</legend>
        <label>
          <input type="radio" name="mode" checked={mode === "prompt"} onChange={() => setMode("prompt")} />{" "}
          Prompt
        </label>
        <label>
          <input type="radio" name="mode" checked={mode === "command"} onChange={() => setMode("command")} />{" "}
          Command (one argument per line)
        </label>
      </fieldset>
      <label>
        {mode === "prompt" ? "Prompt text" : "Command arguments"}
        <textarea required rows={3} value={text} onInput={(e) => setText(e.currentTarget.value)} />
      </label>
      <label>
        Model (optional)
        <input value={model} onInput={(e) => setModel(e.currentTarget.value)} />
      </label>
      <button type="submit" disabled={busy}>
        Submit run
      </button>
      {submitted ? (
        <p role="status">
          Queued <code>{submitted}</code>
        </p>
      ) : null}
      <ErrorNote error={error} />
    </form>
  );
}

function RunList({ runs, events }: { runs: Run[]; events: readonly AsmEvent[] }) {
  return (
    <ul class="runs">
      {runs.map((run) => (
        <li key={run.id} data-run-id={run.id}>
          <details>
            <summary>
              <code>{run.id}</code> <span class={`status status-${run.status}`}>{run.status}</span>{" "}
              {run.provider ?? ""} · {tokens(run.tokenUsage)} tokens · {cost(run.costUsd)}
            </summary>
            <RunDetails run={run} events={events} />
          </details>
        </li>
      ))}
    </ul>
  );
}

function RunDetails({ run, events }: { run: Run; events: readonly AsmEvent[] }) {
  const diffs = events.filter(
    (event): event is EventOf<"workspace_diff_computed"> =>
      event.type === "workspace_diff_computed" && event.runId === run.id,
  );
  const model = typeof run.providerMetadata.model === "string" ? run.providerMetadata.model : undefined;
  const started = run.startedAt ? Date.parse(run.startedAt) : undefined;
  const ended = run.endedAt ? Date.parse(run.endedAt) : undefined;
  return (
    <div class="run-details">
      <dl class="facts">
        <dt>Model</dt>
        <dd>{model ?? "–"}</dd>
        <dt>Turns</dt>
        <dd>{run.turnCount}</dd>
        <dt>Input tokens</dt>
        <dd>{run.tokenUsage.inputTokens}</dd>
        <dt>Output tokens</dt>
        <dd>{run.tokenUsage.outputTokens}</dd>
        <dt>Created</dt>
        <dd>{time(run.createdAt)}</dd>
        <dt>Duration</dt>
        <dd>{started !== undefined && ended !== undefined ? duration(ended - started) : "–"}</dd>
      </dl>
      <h3>Input</h3>
      <pre>{json(run.input)}</pre>
      {run.output ? (
        <>
          <h3>Output</h3>
          <pre>{json(run.output)}</pre>
        </>
      ) : null}
      {run.error ? (
        <p class="error">
          <code>{run.error.code}</code> {run.error.message}
        </p>
      ) : null}
      {diffs.map((diff) => (
        <div class="diff" key={diff.sequence}>
          <h3>Workspace diff</h3>
          <p>
            {diff.data.filesChanged} files changed, <span class="ins">+{diff.data.insertions}</span>{" "}
            <span class="del">−{diff.data.deletions}</span>
          </p>
          {diff.data.paths ? (
            <ul class="paths">
              {diff.data.paths.map((path) => (
                <li key={path}>
                  <code>{path}</code>
                </li>
              ))}
            </ul>
          ) : null}
        </div>
      ))}
    </div>
  );
}

/** Tokens of each ended run, in the order they ended: where a session's budget went. */
function RunCostChart({ runs }: { runs: Run[] }) {
  const ended = runs
    .filter((run) => run.endedAt)
    .sort((a, b) => (a.endedAt ?? "").localeCompare(b.endedAt ?? ""));
  return (
    <BarChart
      title="Tokens per run"
      bars={ended.map((run) => ({
        label: run.id.slice(0, 12),
        value: run.tokenUsage.inputTokens + run.tokenUsage.outputTokens,
        detail: `${tokens(run.tokenUsage)} tokens, ${cost(run.costUsd)}`,
      }))}
    />
  );
}

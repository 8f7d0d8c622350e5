import { z } from "zod";
import type { AsmEvent } from "../core/events.js";
import { isTerminalRunStatus, type Run } from "../core/run.js";
import type { JsonObject } from "../core/session.js";
import type { ExecuteResult, ProviderTotals, ResumePoint } from "../ports/provider-adapter.js";
import type { RunOutcome } from "../ports/run-extension.js";
import { MAX_EVENT_PAGE, type SessionStore } from "../ports/session-store.js";

/** The most runs `listRuns` answers in one call (the `SessionStore` port's bound). */
const RUN_PAGE = 1000;

const count = z.number().int().nonnegative();
/** Totals as stored: read back from a store, so checked, and ignored when they do not fit. */
const providerTotalsSchema = z.object({
  costUsd: z.number().nonnegative().optional(),
  tokenUsage: z
    .object({
      inputTokens: count,
      outputTokens: count,
      cacheReadTokens: count.optional(),
      cacheWriteTokens: count.optional(),
      reasoningTokens: count.optional(),
    })
    .optional(),
});

/** `value` as provider totals with at least one figure, or `undefined`. */
function totalsOf(value: unknown): ProviderTotals | undefined {
  const parsed = providerTotalsSchema.safeParse(value);
  if (!parsed.success) return undefined;
  const { costUsd, tokenUsage } = parsed.data;
  if (costUsd === undefined && tokenUsage === undefined) return undefined;
  return { ...(costUsd !== undefined ? { costUsd } : {}), ...(tokenUsage ? { tokenUsage } : {}) };
}

function nonEmptyString(value: unknown): string | undefined {
  return typeof value === "string" && value.length > 0 ? value : undefined;
}

/**
 * What a run leaves in its `providerMetadata` for the next run that resumes the provider's native
 * session: `providerSessionId` and `providerTotals`. A provider that completed says both in its
 * result (even when the run then failed, e.g. on a policy). A failed one may say them in its
 * error's `details` (`providerSessionId`, `providerTotals`); else (a cancel, a timeout, a failure
 * without them) the native id is the one `run_started` announced, and the totals are unknown, so
 * the next resume point falls back to an earlier run's.
 */
export function nativeSessionRecord(
  result: ExecuteResult | undefined,
  outcome: RunOutcome,
  events: readonly AsmEvent[],
): JsonObject {
  const details = outcome.status === "failed" ? outcome.error.details : {};
  const providerSessionId = result
    ? nonEmptyString(result.providerSessionId)
    : (nonEmptyString(details.providerSessionId) ?? announcedSessionId(events));
  const providerTotals = totalsOf(result ? result.providerTotals : details.providerTotals);
  return {
    ...(providerSessionId ? { providerSessionId } : {}),
    ...(providerTotals ? { providerTotals: { ...providerTotals } } : {}),
  };
}

/** The native session id the run's last `run_started` announced (after a failover: the last provider's). */
function announcedSessionId(events: readonly AsmEvent[]): string | undefined {
  for (let index = events.length - 1; index >= 0; index -= 1) {
    const event = events[index];
    if (event?.type === "run_started") {
      const id = nonEmptyString(event.data.providerSessionId);
      if (id) return id;
    }
  }
  return undefined;
}

/**
 * The resume point of every provider that ran in the session, keyed by the provider stored on
 * its runs (`run.provider`), from what is stored — so a run resumed in another process, or after a
 * restart, gets the same baseline as one resumed here. For each provider: the ended run (any
 * terminal status) that ended last and recorded a `providerSessionId`, with its `providerTotals`,
 * or, when it has none, those of the last ended run of the same native session that has them.
 * Runs that have not ended (the run about to start, runs executing elsewhere) are left out: their
 * totals are not final.
 */
export async function deriveResumePoints(
  store: SessionStore,
  sessionId: string,
): Promise<Record<string, ResumePoint>> {
  const ended = (await sessionRuns(store, sessionId))
    .map((run, order) => ({ run, order }))
    .filter(({ run }) => isTerminalRunStatus(run.status) && run.provider !== undefined)
    // Cumulative totals grow in the order runs end, which is not always the order they began.
    .sort((a, b) => compareDesc(endOf(a.run), endOf(b.run)) || b.order - a.order)
    .map(({ run }) => run);
  const points: Record<string, ResumePoint> = {};
  for (const [index, run] of ended.entries()) {
    const provider = run.provider ?? "";
    const providerSessionId = nonEmptyString(run.providerMetadata.providerSessionId);
    if (providerSessionId === undefined || Object.hasOwn(points, provider)) continue;
    const totals = ended
      .slice(index)
      .filter(
        (earlier) =>
          earlier.provider === provider && earlier.providerMetadata.providerSessionId === providerSessionId,
      )
      .map((earlier) => totalsOf(earlier.providerMetadata.providerTotals))
      .find((found) => found !== undefined);
    points[provider] = { providerSessionId, runId: run.id, ...(totals ? { totals } : {}) };
  }
  return points;
}

/** When the run ended, as an ISO 8601 UTC string (these sort as text). */
function endOf(run: Run): string {
  return run.endedAt ?? run.createdAt;
}

/** Descending order of two ISO 8601 UTC timestamps; 0 when equal. */
function compareDesc(a: string, b: string): number {
  if (a === b) return 0;
  return a < b ? 1 : -1;
}

/**
 * Every run of the session. `listRuns` answers the oldest `RUN_PAGE` only: past that, the later
 * runs are found through their `run_started` events (a run that never started has no native
 * session to resume) and read one by one.
 */
async function sessionRuns(store: SessionStore, sessionId: string): Promise<Run[]> {
  const runs = await store.listRuns(sessionId, { limit: RUN_PAGE });
  if (runs.length < RUN_PAGE) return runs;
  const known = new Set(runs.map((run) => run.id));
  let after = 0;
  for (;;) {
    const started = await store.getEvents(sessionId, {
      after,
      limit: MAX_EVENT_PAGE,
      types: ["run_started"],
    });
    for (const event of started) {
      if (event.runId === undefined || known.has(event.runId)) continue;
      known.add(event.runId);
      runs.push(await store.getRun(event.runId));
    }
    const last = started.at(-1);
    if (last === undefined || started.length < MAX_EVENT_PAGE) return runs;
    after = last.sequence;
  }
}

import type { EventDraft } from "../core/events.js";
import { INITIAL_RUN_STATUS, RUN_TRANSITIONS, type Run } from "../core/run.js";
import { INITIAL_SESSION_STATUS, SESSION_TRANSITIONS, type Session } from "../core/session.js";
import type { TransitionTable } from "../core/state-machine.js";
import type { SessionStore } from "../ports/session-store.js";

const T0 = Date.parse("2025-01-01T00:00:00.000Z");

/** An instant `offsetMs` after the suites' epoch, in `toISOString` form. */
export function iso(offsetMs: number): string {
  return new Date(T0 + offsetMs).toISOString();
}

// Ids sort in creation order, which tie-break cases rely on; the tag keeps two processes' (or
// two test files') ids apart, e.g. when one store's export is imported into another.
const idTag = Math.floor(Math.random() * 36 ** 4)
  .toString(36)
  .padStart(4, "0");
let lastId = 0;

export function uniqueId(prefix: string): string {
  lastId += 1;
  return `${prefix}_${idTag}${lastId.toString().padStart(6, "0")}`;
}

export function makeSession(fields: Partial<Session> = {}): Session {
  return {
    id: uniqueId("ses"),
    agentId: "agent-1",
    status: "active",
    metadata: {},
    context: {},
    tags: [],
    createdAt: iso(0),
    updatedAt: iso(0),
    ...fields,
  };
}

export function makeRun(sessionId: string, fields: Partial<Run> = {}): Run {
  return {
    id: uniqueId("run"),
    sessionId,
    status: "pending",
    input: { prompt: "hello" },
    metadata: {},
    turnCount: 0,
    tokenUsage: { inputTokens: 0, outputTokens: 0 },
    costUsd: null,
    providerMetadata: {},
    createdAt: iso(0),
    ...fields,
  };
}

/**
 * Saves `session` the way stores allow (they enforce the state machine): created `pending`, then
 * moved along the shortest legal path to its status; the last save writes it as given.
 */
export async function saved(store: SessionStore, session: Session): Promise<Session> {
  for (const status of pathTo(SESSION_TRANSITIONS, INITIAL_SESSION_STATUS, session.status)) {
    await store.saveSession({ ...session, status });
  }
  return session;
}

/** `saved` for runs: created `pending`, moved along the shortest legal path; answers the run. */
export async function savedRun(store: SessionStore, run: Run): Promise<Run> {
  for (const status of pathTo(RUN_TRANSITIONS, INITIAL_RUN_STATUS, run.status)) {
    await store.saveRun({ ...run, status });
  }
  return run;
}

/** The statuses from `initial` to `target`, both included, along the table's shortest path. */
function pathTo<S extends string>(table: TransitionTable<S>, initial: S, target: S): S[] {
  const paths = new Map<S, S[]>([[initial, [initial]]]);
  for (const [status, path] of paths) {
    if (status === target) return path;
    for (const next of table[status]) if (!paths.has(next)) paths.set(next, [...path, next]);
  }
  throw new Error(`no path from ${initial} to ${target}`);
}

/** For drafts the type system cannot describe: wrong on purpose, or data of a loose shape. */
export function untypedDraft(fields: Record<string, unknown>): EventDraft {
  return fields as unknown as EventDraft;
}

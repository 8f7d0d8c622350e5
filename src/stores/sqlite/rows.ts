import type { AsmEvent } from "../../core/events.js";
import type { Run, RunStatus } from "../../core/run.js";
import type { Session, SessionStatus } from "../../core/session.js";

/**
 * Rows as stored: snake_case columns, JSON as TEXT, and SQL NULL for an absent optional field,
 * which reads back as an absent property (not `null`, not `undefined`).
 */

export interface SessionRow {
  id: string;
  agent_id: string;
  status: string;
  parent_session_id: string | null;
  metadata: string;
  context: string;
  tags: string;
  created_at: string;
  updated_at: string;
  deleted_at: string | null;
}

export interface RunRow {
  id: string;
  session_id: string;
  status: string;
  input: string;
  output: string | null;
  error: string | null;
  metadata: string;
  turn_count: number;
  token_usage: string;
  cost_usd: number | null;
  owner: string | null;
  provider: string | null;
  provider_metadata: string;
  created_at: string;
  started_at: string | null;
  ended_at: string | null;
}

export interface EventRow {
  id: string;
  session_id: string;
  sequence: number;
  type: string;
  run_id: string | null;
  timestamp: string;
  provider: string | null;
  data: string;
  metadata: string;
}

export function sessionToRow(session: Session): SessionRow {
  return {
    id: session.id,
    agent_id: session.agentId,
    status: session.status,
    parent_session_id: session.parentSessionId ?? null,
    metadata: JSON.stringify(session.metadata),
    context: JSON.stringify(session.context),
    tags: JSON.stringify(session.tags),
    created_at: session.createdAt,
    updated_at: session.updatedAt,
    deleted_at: session.deletedAt ?? null,
  };
}

export function rowToSession(row: SessionRow): Session {
  return {
    id: row.id,
    agentId: row.agent_id,
    // Only validated statuses are ever written.
    status: row.status as SessionStatus,
    ...(row.parent_session_id === null ? {} : { parentSessionId: row.parent_session_id }),
    metadata: parseJson(row.metadata),
    context: parseJson(row.context),
    tags: parseJson(row.tags),
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    ...(row.deleted_at === null ? {} : { deletedAt: row.deleted_at }),
  };
}

export function runToRow(run: Run): RunRow {
  return {
    id: run.id,
    session_id: run.sessionId,
    status: run.status,
    input: JSON.stringify(run.input),
    output: run.output === undefined ? null : JSON.stringify(run.output),
    error: run.error === undefined ? null : JSON.stringify(run.error),
    metadata: JSON.stringify(run.metadata),
    turn_count: run.turnCount,
    token_usage: JSON.stringify(run.tokenUsage),
    cost_usd: run.costUsd,
    owner: run.owner === undefined ? null : JSON.stringify(run.owner),
    provider: run.provider ?? null,
    provider_metadata: JSON.stringify(run.providerMetadata),
    created_at: run.createdAt,
    started_at: run.startedAt ?? null,
    ended_at: run.endedAt ?? null,
  };
}

export function rowToRun(row: RunRow): Run {
  return {
    id: row.id,
    sessionId: row.session_id,
    status: row.status as RunStatus,
    input: parseJson(row.input),
    ...(row.output === null ? {} : { output: parseJson(row.output) }),
    ...(row.error === null ? {} : { error: parseJson(row.error) }),
    metadata: parseJson(row.metadata),
    turnCount: row.turn_count,
    tokenUsage: parseJson(row.token_usage),
    costUsd: row.cost_usd,
    ...(row.owner === null ? {} : { owner: parseJson(row.owner) }),
    ...(row.provider === null ? {} : { provider: row.provider }),
    providerMetadata: parseJson(row.provider_metadata),
    createdAt: row.created_at,
    ...(row.started_at === null ? {} : { startedAt: row.started_at }),
    ...(row.ended_at === null ? {} : { endedAt: row.ended_at }),
  };
}

/** Positional, in the column order of the events insert: it runs once per appended event. */
export function eventToParams(event: AsmEvent): unknown[] {
  return [
    event.id,
    event.sessionId,
    event.sequence,
    event.type,
    event.runId ?? null,
    event.timestamp,
    event.provider ?? null,
    JSON.stringify(event.data),
    JSON.stringify(event.metadata),
  ];
}

export function rowToEvent(row: EventRow): AsmEvent {
  return {
    id: row.id,
    // Only known types are ever written.
    type: row.type,
    sessionId: row.session_id,
    ...(row.run_id === null ? {} : { runId: row.run_id }),
    sequence: row.sequence,
    timestamp: row.timestamp,
    ...(row.provider === null ? {} : { provider: row.provider }),
    data: parseJson(row.data),
    metadata: parseJson(row.metadata),
  } as AsmEvent;
}

function parseJson<T>(text: string): T {
  return JSON.parse(text) as T;
}

import type { AsmEvent } from "../../core/events.js";
import type { Run, RunStatus } from "../../core/run.js";
import type { Session, SessionStatus } from "../../core/session.js";
import type { SelectedEvent, SelectedRun, SelectedSession } from "./schema.js";

/**
 * Row ⇄ domain mapping for both SQL stores. Rows are snake_case columns; SQL NULL for an absent
 * optional field reads back as an absent property (not `null`, not `undefined`).
 *
 * Writing is the same for both databases: JSON as text and timestamps as the ISO strings the
 * domain holds (PostgreSQL casts them to jsonb and timestamptz). Reading differs by driver, which
 * is what `RowCodec` hides.
 */

/** How one database's driver hands back JSON, timestamps and integers. */
export interface RowCodec {
  /** A JSON column's value: text to parse (SQLite) or an already parsed value (PostgreSQL jsonb). */
  json<T>(raw: unknown): T;
  /** A timestamp column's value as an ISO 8601 string. */
  timestamp(raw: string | Date): string;
  /** An integer or numeric value; pg returns bigint and aggregates as strings. */
  number(raw: number | string | bigint): number;
}

/** A session as written: every value in a form both databases accept as a parameter. */
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

export function rowToSession(row: SelectedSession, codec: RowCodec): Session {
  return {
    id: row.id,
    agentId: row.agent_id,
    // Only validated statuses are ever written.
    status: row.status as SessionStatus,
    ...(row.parent_session_id === null ? {} : { parentSessionId: row.parent_session_id }),
    metadata: codec.json(row.metadata),
    context: codec.json(row.context),
    tags: codec.json(row.tags),
    createdAt: codec.timestamp(row.created_at),
    updatedAt: codec.timestamp(row.updated_at),
    ...(row.deleted_at === null ? {} : { deletedAt: codec.timestamp(row.deleted_at) }),
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

export function rowToRun(row: SelectedRun, codec: RowCodec): Run {
  return {
    id: row.id,
    sessionId: row.session_id,
    status: row.status as RunStatus,
    input: codec.json(row.input),
    ...(row.output === null ? {} : { output: codec.json(row.output) }),
    ...(row.error === null ? {} : { error: codec.json(row.error) }),
    metadata: codec.json(row.metadata),
    turnCount: codec.number(row.turn_count),
    tokenUsage: codec.json(row.token_usage),
    costUsd: row.cost_usd === null ? null : codec.number(row.cost_usd),
    ...(row.owner === null ? {} : { owner: codec.json(row.owner) }),
    ...(row.provider === null ? {} : { provider: row.provider }),
    providerMetadata: codec.json(row.provider_metadata),
    createdAt: codec.timestamp(row.created_at),
    ...(row.started_at === null ? {} : { startedAt: codec.timestamp(row.started_at) }),
    ...(row.ended_at === null ? {} : { endedAt: codec.timestamp(row.ended_at) }),
  };
}

export function eventToRow(event: AsmEvent): EventRow {
  return {
    id: event.id,
    session_id: event.sessionId,
    sequence: event.sequence,
    type: event.type,
    run_id: event.runId ?? null,
    timestamp: event.timestamp,
    provider: event.provider ?? null,
    data: JSON.stringify(event.data),
    metadata: JSON.stringify(event.metadata),
  };
}

export function rowToEvent(row: SelectedEvent, codec: RowCodec): AsmEvent {
  return {
    id: row.id,
    // Only known types are ever written.
    type: row.type,
    sessionId: row.session_id,
    ...(row.run_id === null ? {} : { runId: row.run_id }),
    sequence: codec.number(row.sequence),
    timestamp: codec.timestamp(row.timestamp),
    ...(row.provider === null ? {} : { provider: row.provider }),
    data: codec.json(row.data),
    metadata: codec.json(row.metadata),
  } as AsmEvent;
}

/** SQLite's driver returns JSON as text, timestamps as the ISO strings written, integers as numbers. */
export const TEXT_CODEC: RowCodec = {
  json: <T>(raw: unknown): T => JSON.parse(String(raw)) as T,
  timestamp: (raw) => (typeof raw === "string" ? raw : raw.toISOString()),
  number: Number,
};

import type { ColumnType, Selectable } from "kysely";

/**
 * The tables of the SQL stores as kysely sees them. SQLite and PostgreSQL share table and column
 * names; their column types differ, so each column here is typed by what both drivers may return
 * (select) and what both accept (insert, update):
 *
 * - JSON: SQLite TEXT (read back as a string), PostgreSQL jsonb (read back parsed by pg). Always
 *   written as JSON text, which PostgreSQL casts to jsonb (pg would turn a JS array into a SQL array).
 * - Timestamps: SQLite TEXT in `toISOString()` form, PostgreSQL timestamptz (read back as a Date).
 *   Always written and compared as ISO 8601 strings.
 * - Integers: SQLite INTEGER; PostgreSQL bigint and aggregates come back from pg as strings.
 *
 * `SqlFlavor` turns what was read into domain values.
 */

export type JsonColumn = ColumnType<unknown, string, string>;
export type NullableJsonColumn = ColumnType<unknown, string | null, string | null>;
export type TimestampColumn = ColumnType<string | Date, string, string>;
export type NullableTimestampColumn = ColumnType<string | Date | null, string | null, string | null>;
export type IntegerColumn = ColumnType<number | string | bigint, number, number>;

export interface SessionsTable {
  id: string;
  agent_id: string;
  status: string;
  parent_session_id: string | null;
  metadata: JsonColumn;
  context: JsonColumn;
  tags: JsonColumn;
  created_at: TimestampColumn;
  updated_at: TimestampColumn;
  deleted_at: NullableTimestampColumn;
  /** The highest sequence handed out; appends reserve ranges by bumping it. */
  last_sequence: IntegerColumn;
  /** How many of the session's events retention pruned: their sequences are missing on purpose. */
  pruned_events: IntegerColumn;
}

export interface RunsTable {
  id: string;
  session_id: string;
  status: string;
  input: JsonColumn;
  output: NullableJsonColumn;
  error: NullableJsonColumn;
  metadata: JsonColumn;
  turn_count: IntegerColumn;
  token_usage: JsonColumn;
  cost_usd: ColumnType<number | string | null, number | null, number | null>;
  provider: string | null;
  provider_metadata: JsonColumn;
  owner: NullableJsonColumn;
  created_at: TimestampColumn;
  started_at: NullableTimestampColumn;
  ended_at: NullableTimestampColumn;
}

export interface EventsTable {
  id: string;
  session_id: string;
  sequence: IntegerColumn;
  type: string;
  run_id: string | null;
  timestamp: TimestampColumn;
  provider: string | null;
  data: JsonColumn;
  metadata: JsonColumn;
}

export interface AsmDatabase {
  sessions: SessionsTable;
  runs: RunsTable;
  events: EventsTable;
}

/** The columns that make up a domain object, in the order the stores select them. */
export const SESSION_COLUMNS = [
  "id",
  "agent_id",
  "status",
  "parent_session_id",
  "metadata",
  "context",
  "tags",
  "created_at",
  "updated_at",
  "deleted_at",
] as const satisfies readonly (keyof SessionsTable)[];

export const RUN_COLUMNS = [
  "id",
  "session_id",
  "status",
  "input",
  "output",
  "error",
  "metadata",
  "turn_count",
  "token_usage",
  "cost_usd",
  "provider",
  "provider_metadata",
  "owner",
  "created_at",
  "started_at",
  "ended_at",
] as const satisfies readonly (keyof RunsTable)[];

export const EVENT_COLUMNS = [
  "id",
  "session_id",
  "sequence",
  "type",
  "run_id",
  "timestamp",
  "provider",
  "data",
  "metadata",
] as const satisfies readonly (keyof EventsTable)[];

/** A selected session, run or event row, as either driver returns it. */
export type SelectedSession = Pick<Selectable<SessionsTable>, (typeof SESSION_COLUMNS)[number]>;
export type SelectedRun = Pick<Selectable<RunsTable>, (typeof RUN_COLUMNS)[number]>;
export type SelectedEvent = Pick<Selectable<EventsTable>, (typeof EVENT_COLUMNS)[number]>;

import {
  type Compilable,
  type Expression,
  type Kysely,
  type QueryResult,
  type RawBuilder,
  type SqlBool,
  sql,
} from "kysely";
import type { EventType } from "../../core/events.js";
import { type RowCodec, TEXT_CODEC } from "./rows.js";
import type { AsmDatabase } from "./schema.js";

/**
 * Everything the shared query code does differently on SQLite and PostgreSQL, in one place:
 * how values read back (`RowCodec`), how JSON fields and tag arrays are queried, how a unique-key
 * violation looks, and the one statement the two write differently (event pruning).
 */
export interface SqlFlavor extends RowCodec {
  readonly name: "sqlite" | "postgres";
  /** A string field of a JSON object column; NULL when absent. `key` must be a constant. */
  jsonText(column: Expression<unknown>, key: string): RawBuilder<string | null>;
  /** A numeric field of a JSON object column, for sums; NULL when absent. `key` must be a constant. */
  jsonNumber(column: Expression<unknown>, key: string): RawBuilder<number | string | null>;
  /** Whether a JSON array of strings holds every one of `tags` (non-empty). */
  hasAllTags(column: Expression<unknown>, tags: readonly string[]): RawBuilder<SqlBool>;
  /** Whether a JSON array of strings holds at least one of `tags` (non-empty). */
  hasAnyTag(column: Expression<unknown>, tags: readonly string[]): RawBuilder<SqlBool>;
  /** Whether a driver error is a primary-key or unique violation. */
  isUniqueViolation(error: unknown): boolean;
  /** The statements that prune events (see `PrunePlan`). */
  planPrune(db: Kysely<AsmDatabase>, types: readonly EventType[], keepLast: number): PrunePlan;
}

/**
 * Deletes, per session, all but the newest `keepLast` events of each given type and adds the
 * number deleted to `sessions.pruned_events`, atomically: the statements run in one write
 * transaction, and `pruned` reads the number of events deleted from their results.
 */
export interface PrunePlan {
  statements: readonly Compilable<unknown>[];
  pruned(results: readonly QueryResult<unknown>[]): number;
}

/** Events of the given types, newest first within each (session, type): `rank` 1 is the newest. */
function rankedEvents(db: Kysely<AsmDatabase>, types: readonly EventType[]) {
  return db
    .selectFrom("events")
    .select((eb) => [
      "events.id",
      "events.session_id",
      eb.fn
        .agg<number>("row_number")
        .over((over) =>
          over.partitionBy(["events.session_id", "events.type"]).orderBy("events.sequence", "desc"),
        )
        .as("rank"),
    ])
    .where("events.type", "in", types);
}

function driverCode(error: unknown): unknown {
  return typeof error === "object" && error !== null && "code" in error ? error.code : undefined;
}

export const sqliteFlavor: SqlFlavor = {
  name: "sqlite",
  ...TEXT_CODEC,
  // json_extract takes the path as a literal so equal expressions compare equal in GROUP BY.
  jsonText: (column, key) => sql<string | null>`json_extract(${column}, ${sql.lit(`$.${key}`)})`,
  jsonNumber: (column, key) => sql<number | null>`json_extract(${column}, ${sql.lit(`$.${key}`)})`,
  hasAllTags: (column, tags) =>
    sql<SqlBool>`not exists (select 1 from json_each(${JSON.stringify(tags)}) as wanted
      where wanted.value not in (select value from json_each(${column})))`,
  hasAnyTag: (column, tags) =>
    sql<SqlBool>`exists (select 1 from json_each(${column}) as tag
      where tag.value in (select value from json_each(${JSON.stringify(tags)})))`,
  // Checked by shape, so this module does not load the native driver.
  isUniqueViolation: (error) =>
    driverCode(error) === "SQLITE_CONSTRAINT_PRIMARYKEY" || driverCode(error) === "SQLITE_CONSTRAINT_UNIQUE",
  planPrune(db, types, keepLast) {
    // SQLite has no DML in CTEs. Two statements are consistent anyway: the write transaction
    // holds the database's only write lock, so both see the same events.
    const doomed = db.selectFrom(rankedEvents(db, types).as("ranked")).where("ranked.rank", ">", keepLast);
    return {
      statements: [
        db
          .updateTable("sessions")
          .from(
            doomed
              .select((eb) => ["ranked.session_id", eb.fn.countAll<number>().as("count")])
              .groupBy("ranked.session_id")
              .as("doomed"),
          )
          // $castTo: the sum is an integer; the column's read type also allows pg's string form.
          .set((eb) => ({
            pruned_events: eb("sessions.pruned_events", "+", eb.ref("doomed.count")).$castTo<number>(),
          }))
          .whereRef("sessions.id", "=", "doomed.session_id"),
        db.deleteFrom("events").where("events.id", "in", doomed.select("ranked.id")),
      ],
      pruned: (results) => Number(results[1]?.numAffectedRows ?? 0),
    };
  },
};

export const postgresFlavor: SqlFlavor = {
  name: "postgres",
  // pg parses jsonb itself and returns timestamptz as a Date; a string (custom type parser) is parsed.
  json: <T>(raw: unknown): T => raw as T,
  timestamp: (raw) => (typeof raw === "string" ? new Date(raw) : raw).toISOString(),
  number: Number,
  jsonText: (column, key) => sql<string | null>`(${column} ->> ${sql.lit(key)})`,
  // numeric, not bigint: a fractional count written by some caller must not fail the whole sum.
  jsonNumber: (column, key) => sql<string | null>`(${column} ->> ${sql.lit(key)})::numeric`,
  hasAllTags: (column, tags) => sql<SqlBool>`(${column} @> ${JSON.stringify(tags)}::jsonb)`,
  hasAnyTag: (column, tags) =>
    sql<SqlBool>`(${column} ?| array(select jsonb_array_elements_text(${JSON.stringify(tags)}::jsonb)))`,
  isUniqueViolation: (error) => driverCode(error) === "23505",
  planPrune(db, types, keepLast) {
    // One statement: the counter is bumped by exactly the rows this DELETE removed. Two statements
    // would each see their own snapshot under READ COMMITTED while appends commit in between.
    const doomedIds = db
      .selectFrom(rankedEvents(db, types).as("ranked"))
      .select("ranked.id")
      .where("ranked.rank", ">", keepLast);
    const statement = db
      .with("doomed", (cte) =>
        cte.deleteFrom("events").where("events.id", "in", doomedIds).returning("events.session_id"),
      )
      .with("counts", (cte) =>
        cte
          .selectFrom("doomed")
          .select((eb) => ["doomed.session_id", eb.fn.countAll<string>().as("count")])
          .groupBy("doomed.session_id"),
      )
      .updateTable("sessions")
      .from("counts")
      .set((eb) => ({
        pruned_events: eb("sessions.pruned_events", "+", eb.ref("counts.count")).$castTo<number>(),
      }))
      .whereRef("sessions.id", "=", "counts.session_id")
      .returning("counts.count");
    return {
      statements: [statement],
      pruned: (results) =>
        (results[0]?.rows ?? []).reduce<number>((sum, row) => sum + Number(fieldOf(row, "count") ?? 0), 0),
    };
  },
};

function fieldOf(row: unknown, key: string): unknown {
  return typeof row === "object" && row !== null && key in row
    ? (row as Record<string, unknown>)[key]
    : undefined;
}

/** The PostgreSQL the tests use, and throwaway schemas in it. */
import { randomBytes } from "node:crypto";
import pg from "pg";

/** CI starts PostgreSQL here (.ci/run); override with ASM_TEST_POSTGRES_URL. */
export const TEST_DATABASE_URL =
  process.env.ASM_TEST_POSTGRES_URL ?? "postgres://postgres@127.0.0.1:5432/test";

/** A schema name no other test run uses: `asm_test_<random>_<label>`. */
export function uniqueSchema(label: string): string {
  return `asm_test_${randomBytes(5).toString("hex")}_${label}`;
}

/** One query on a connection of its own, outside any store. */
export async function adminQuery<Row extends pg.QueryResultRow = pg.QueryResultRow>(
  text: string,
  values: unknown[] = [],
): Promise<Row[]> {
  const client = new pg.Client({ connectionString: TEST_DATABASE_URL, connectionTimeoutMillis: 10_000 });
  await client.connect();
  try {
    return (await client.query<Row>(text, values)).rows;
  } finally {
    await client.end();
  }
}

/**
 * Fails (never skips) when the database is unreachable, with a message saying what to start:
 * these tests are the PostgreSQL store's only check.
 */
export async function requirePostgres(): Promise<void> {
  try {
    await adminQuery("SELECT 1");
  } catch (error) {
    throw new Error(
      `PostgreSQL is not reachable at ${TEST_DATABASE_URL} (${error instanceof Error ? error.message : String(error)}). ` +
        "Start it (CI's .ci/run does: pg_ctlcluster 15 main start), or point ASM_TEST_POSTGRES_URL at one.",
    );
  }
}

export async function dropSchemas(schemas: Iterable<string>): Promise<void> {
  const names = [...schemas];
  if (names.length === 0) return;
  await adminQuery(
    `DROP SCHEMA IF EXISTS ${names.map((name) => pg.escapeIdentifier(name)).join(", ")} CASCADE`,
  );
}

/** `TEST_DATABASE_URL` with an application_name, to find a store's connections in pg_stat_activity. */
export function urlWithApplicationName(name: string): string {
  const url = new URL(TEST_DATABASE_URL);
  url.searchParams.set("application_name", name);
  return url.toString();
}

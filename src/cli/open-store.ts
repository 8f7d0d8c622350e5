import { resolve } from "node:path";
import type { DurableSessionStore } from "../ports/durable-store.js";
import { reportError } from "./output.js";

/** The database the CLI uses: `--db`, else `$ASM_DB`, else `./.asm/asm.db`. */
export function databaseLocation(option: string | undefined): string {
  return option ?? process.env.ASM_DB ?? ".asm/asm.db";
}

function isPostgresUrl(location: string): boolean {
  return /^postgres(ql)?:\/\//.test(location);
}

/**
 * Opens the store the location names — a `postgres://` URL (`?schema=` selects the schema) or a
 * SQLite file — migrating an
 * older schema: a CLI user expects upgrades to just work. Each backend loads only when chosen.
 */
export async function openStore(option: string | undefined): Promise<DurableSessionStore> {
  const location = databaseLocation(option);
  if (isPostgresUrl(location)) {
    const { openPostgresStore } = await import("../stores/postgres/index.js");
    // `?schema=name` picks the schema; it is ours, not a libpq parameter, so it is taken out.
    const url = new URL(location);
    const schema = url.searchParams.get("schema");
    url.searchParams.delete("schema");
    return openPostgresStore({
      connectionString: url.toString(),
      autoMigrate: true,
      ...(schema ? { schema } : {}),
    });
  }
  const { openSqliteStore } = await import("../stores/sqlite/index.js");
  return openSqliteStore({ path: resolve(location), autoMigrate: true });
}

/** Runs a command against the store: errors become one reported line, the store is always closed. */
export async function withStore(
  option: string | undefined,
  json: boolean,
  command: (store: DurableSessionStore) => Promise<number>,
): Promise<number> {
  let store: DurableSessionStore | undefined;
  try {
    store = await openStore(option);
    return await command(store);
  } catch (error) {
    return reportError(error, json);
  } finally {
    await store?.close();
  }
}

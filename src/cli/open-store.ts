import { resolve } from "node:path";
import type { SessionStore } from "../ports/session-store.js";
import { openSqliteStore } from "../stores/sqlite/index.js";
import { reportError } from "./output.js";

/** The database the CLI uses: `--db`, else `$ASM_DB`, else `./.asm/asm.db`. */
export function databasePath(option: string | undefined): string {
  return resolve(option ?? process.env.ASM_DB ?? ".asm/asm.db");
}

/** Opens the store, migrating an older schema: a CLI user expects upgrades to just work. */
export function openStore(option: string | undefined): Promise<SessionStore> {
  return openSqliteStore({ path: databasePath(option), autoMigrate: true });
}

/** Runs a command against the store: errors become one reported line, the store is always closed. */
export async function withStore(
  option: string | undefined,
  json: boolean,
  command: (store: SessionStore) => Promise<number>,
): Promise<number> {
  let store: SessionStore | undefined;
  try {
    store = await openStore(option);
    return await command(store);
  } catch (error) {
    return reportError(error, json);
  } finally {
    await store?.close();
  }
}

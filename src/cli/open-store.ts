import type { DurableSessionStore } from "../ports/durable-store.js";
import { openDurableStore } from "../stores/open-store.js";
import { reportError } from "./output.js";

/** The database the CLI uses: `--db`, else `$ASM_DB`, else `./.asm/asm.db`. */
export function databaseLocation(option: string | undefined): string {
  return option ?? process.env.ASM_DB ?? ".asm/asm.db";
}

/**
 * Opens the store the location names (a SQLite file, `sqlite:`, or a `postgres://` URL with
 * `?schema=`; see the library's `openStore`), migrating an older schema: a CLI user expects
 * upgrades to just work.
 */
export function openStore(option: string | undefined): Promise<DurableSessionStore> {
  return openDurableStore(databaseLocation(option), { autoMigrate: true });
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

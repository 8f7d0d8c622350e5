import type { DurableSessionStore } from "../ports/durable-store.js";
import { openDurableStore } from "../stores/open-store.js";
import { reportError } from "./output.js";

/** The database the CLI uses: `--db`, else `$ASM_DB`, else `./.asm/asm.db`. */
export function databaseLocation(option: string | undefined): string {
  return option ?? process.env.ASM_DB ?? ".asm/asm.db";
}

export interface CliStoreAccess {
  /**
   * The command only reads: the store must exist and is opened read-only — nothing is created,
   * migrated or recovered (a missing one is `not_found`, exit 2, naming where it was looked
   * for). Default `false`: a writing command creates the store, and migrates an older schema.
   */
  readOnly?: boolean;
}

/** The access of the commands that only read: sessions list|show|search, events, export, health. */
export const READ_ONLY: CliStoreAccess = { readOnly: true };

/**
 * Opens the store the location names (a SQLite file, `sqlite:`, or a `postgres://` URL with
 * `?schema=`; see the library's `openStore`). A writing command migrates an older schema: a
 * CLI user expects upgrades to just work.
 */
export function openStore(
  option: string | undefined,
  access: CliStoreAccess = {},
): Promise<DurableSessionStore> {
  return openDurableStore(
    databaseLocation(option),
    access.readOnly ? { readOnly: true } : { autoMigrate: true },
  );
}

/** Runs a command against the store: errors become one reported line, the store is always closed. */
export async function withStore(
  option: string | undefined,
  json: boolean,
  command: (store: DurableSessionStore) => Promise<number>,
  access: CliStoreAccess = {},
): Promise<number> {
  let store: DurableSessionStore | undefined;
  try {
    store = await openStore(option, access);
    return await command(store);
  } catch (error) {
    return reportError(error, json);
  } finally {
    await store?.close();
  }
}

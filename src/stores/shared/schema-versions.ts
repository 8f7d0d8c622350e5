import { AsmError } from "../../core/errors.js";

/**
 * One schema step of a SQL store. Versions run 1, 2, 3, … with no gaps; adding a schema change
 * means appending one entry to the store's list.
 */
export interface Migration {
  version: number;
  description: string;
  /** SQL run inside the migration's transaction. */
  up: string;
}

/** Throws `internal_error` unless the versions run 1, 2, 3, … in order. */
export function checkMigrationList(migrations: readonly Migration[]): void {
  migrations.forEach((migration, index) => {
    if (migration.version !== index + 1) {
      throw new AsmError("internal_error", `migration ${index + 1} is numbered ${migration.version}`);
    }
  });
}

export interface SchemaState {
  /** The storage's schema version; 0 when it has none. */
  current: number;
  /** Whether the storage holds nothing at all yet (no tables of ours or anyone else's). */
  empty: boolean;
  autoMigrate: boolean;
  /**
   * Nothing may be created or changed (a reader's open): new, empty storage is `not_found` and an
   * older schema `migration_required`, whatever `autoMigrate` says. Default `false`.
   */
  readOnly?: boolean;
  /** Names the storage in messages: `database /data/asm.db`, `schema "asm" on db:5432/app`. */
  subject: string;
  /** Identify the storage in the error's details. */
  details: Record<string, unknown>;
  /** What to do about an older schema; it should name `autoMigrate`. */
  upgradeHint: string;
  /** What to do about a newer schema: upgrade the library, or use other storage. */
  downgradeHint: string;
}

/**
 * The migrations that bring storage in `state` to the latest of `migrations`, or refuses, the
 * same way in every SQL store:
 * - new, empty storage (version 0, nothing in it) gets every migration, silently (`not_found`
 *   when `readOnly`);
 * - an older schema is `migration_required` unless `autoMigrate` (which applies the rest);
 * - a newer one (written by a later release) is `migration_required` with
 *   `details.direction: "downgrade"`: this code cannot read it.
 * Call it again under the store's migration lock: another process may be migrating right now.
 */
export function pendingMigrations(
  migrations: readonly Migration[],
  state: SchemaState,
): readonly Migration[] {
  const { current, subject } = state;
  const target = migrations.length;
  if (current === target) return [];
  const details = { ...state.details, currentVersion: current, targetVersion: target };
  if (current > target) {
    throw new AsmError(
      "migration_required",
      `${subject} has schema version ${current}, newer than this library's ${target}`,
      { details: { ...details, direction: "downgrade" }, hint: state.downgradeHint },
    );
  }
  if (current === 0 && state.empty && state.readOnly) {
    throw new AsmError("not_found", `${subject} holds no session store (no tables yet)`, {
      details: state.details,
      hint: "check the location; a store is created by the first open that may write",
    });
  }
  if (!(current === 0 && state.empty) && !(state.autoMigrate && !state.readOnly)) {
    throw new AsmError(
      "migration_required",
      `${subject} has schema version ${current}; this library needs ${target}`,
      { details: { ...details, direction: "upgrade" }, hint: state.upgradeHint },
    );
  }
  return migrations.slice(current);
}

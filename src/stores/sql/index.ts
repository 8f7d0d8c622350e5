// The query layer the SQL stores share: one QueryApi and one Maintenance over kysely, with the
// differences between SQLite and PostgreSQL in their `SqlFlavor`. Stores build a backend on their
// own connection and expose `query` and `maintenance`; users reach them through the store.
export { type BackendHooks, postgresBackend, type SqlBackend, sqliteBackend } from "./backend.js";
export { decodeCursor, encodeCursor } from "./cursor.js";
export { type PrunePlan, postgresFlavor, type SqlFlavor, sqliteFlavor } from "./flavor.js";
export { DEFAULT_EXEMPT_TAGS, DEFAULT_STUCK_AFTER_MS } from "./inputs.js";
export { orphanedRunFailure, recoverOnOpen, SqlMaintenance } from "./maintenance.js";
export { isOwnerProcessAlive } from "./owner-probe.js";
export { ARTIFACT_KEY_FIELDS, SqlQueryApi } from "./query-api.js";
export type { AsmDatabase } from "./schema.js";

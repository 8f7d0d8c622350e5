export { openPostgresStore, type PostgresSessionStore, type PostgresStoreOptions } from "./postgres-store.js";

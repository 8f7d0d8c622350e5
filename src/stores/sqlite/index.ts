export { openSqliteStore, type SqliteSessionStore, type SqliteStoreOptions } from "./sqlite-store.js";

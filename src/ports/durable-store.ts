import type { Maintenance } from "./maintenance.js";
import type { QueryApi } from "./query-api.js";
import type { SessionStore } from "./session-store.js";

/** A database-backed store: the session log plus cross-session queries and maintenance. */
export interface DurableSessionStore extends SessionStore {
  readonly query: QueryApi;
  readonly maintenance: Maintenance;
}

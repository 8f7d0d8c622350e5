export {
  AUDIT_ACTIONS,
  type AuditAction,
  type AuditEntry,
  type AuditEntryDraft,
  type AuditQuery,
  type AuditStore,
  MAX_AUDIT_PAGE,
  MemoryAuditStore,
} from "./audit-store.js";
export { type AuditRecordInput, AuditTrail, type AuditTrailOptions, withActor } from "./audit-trail.js";
// SqliteAuditStore is the `agent-session-manager/audit/sqlite` entry: the root never loads better-sqlite3.

import type { SessionManagerBase } from "../../manager/session-manager.js";
import type { ApprovalGate } from "../../policy/approvals.js";
import type { DurableSessionStore } from "../../ports/durable-store.js";
import type { SessionServerRegistry } from "../../runtime/server-registry.js";
import type { EventStreams } from "../sse.js";

/** What the routes work with: one per app. */
export interface ServerContext {
  manager: SessionManagerBase;
  store: DurableSessionStore;
  registry: SessionServerRegistry;
  approvals: ApprovalGate;
  streams: EventStreams;
  /** Real paths of the directories a run's `workspace.path` may be in; empty: no workspace option. */
  workspaceRoots: readonly string[];
  /** True once shutdown began: readiness fails, new runs are refused. */
  readonly shuttingDown: boolean;
}

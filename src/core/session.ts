import type { RunOwner } from "./run.js";
import { assertTransition, type TransitionTable } from "./state-machine.js";

export const SESSION_STATUSES = ["pending", "active", "paused", "completed", "failed", "cancelled"] as const;
export type SessionStatus = (typeof SESSION_STATUSES)[number];

/**
 * pending → active → completed | failed | cancelled, and active ⇄ paused.
 * A pending session may also fail or be cancelled before it ever ran.
 */
export const SESSION_TRANSITIONS: TransitionTable<SessionStatus> = {
  pending: ["active", "failed", "cancelled"],
  active: ["paused", "completed", "failed", "cancelled"],
  paused: ["active", "failed", "cancelled"],
  completed: [],
  failed: [],
  cancelled: [],
};

/** Every session starts in this status: a store refuses to create one in any other. */
export const INITIAL_SESSION_STATUS: SessionStatus = "pending";

export type JsonObject = Record<string, unknown>;

/** A container for a series of runs against one agent. Timestamps are ISO 8601 UTC strings. */
export interface Session {
  id: string;
  agentId: string;
  status: SessionStatus;
  parentSessionId?: string;
  metadata: JsonObject;
  context: JsonObject;
  tags: string[];
  createdAt: string;
  updatedAt: string;
  deletedAt?: string;
}

/** Returns the session in its new status; throws `invalid_transition` if the move is illegal. */
export function transitionSession(session: Session, to: SessionStatus, now: Date = new Date()): Session {
  assertTransition(SESSION_TRANSITIONS, "session", session.id, session.status, to);
  return { ...session, status: to, updatedAt: now.toISOString() };
}

export function isTerminalSessionStatus(status: SessionStatus): boolean {
  return SESSION_TRANSITIONS[status].length === 0;
}

/**
 * The `metadata` key that marks a one-shot session (`SessionManager.runOnce`, the CLI's `asm run`)
 * with the process running it, `{ hostname, pid }`. Only that process can ever end such a session,
 * so once it is dead, recovery fails the session (`Maintenance.recoverOrphanedRuns`). Long-lived
 * sessions have no marker.
 */
export const ONE_SHOT_OWNER_KEY = "oneShotOwner";

/** The process running a one-shot session; `undefined` for a long-lived session or a malformed marker. */
export function oneShotOwner(session: Session): RunOwner | undefined {
  const marker = session.metadata[ONE_SHOT_OWNER_KEY];
  if (typeof marker !== "object" || marker === null) return undefined;
  const { hostname, pid } = marker as Record<string, unknown>;
  return typeof hostname === "string" && typeof pid === "number" ? { hostname, pid } : undefined;
}

import { AsyncLocalStorage } from "node:async_hooks";
import { AsmError } from "../core/errors.js";
import type { AsmEvent } from "../core/events.js";
import { newId } from "../core/ids.js";
import { createRedactor, type RedactionOptions, type Redactor } from "../core/redaction.js";
import type { Run } from "../core/run.js";
import type { JsonObject } from "../core/session.js";
import type { Maintenance } from "../ports/maintenance.js";
import { RUN_EXTENSION_SPECIFICATION, type RunExtension } from "../ports/run-extension.js";
import type { SessionStore } from "../ports/session-store.js";
import type { AuditAction, AuditEntry, AuditQuery, AuditStore } from "./audit-store.js";
import { MAX_AUDIT_PAGE } from "./audit-store.js";

const ambientActor = new AsyncLocalStorage<string>();

/**
 * Runs `fn` with `actor` as who does what it does: every audit entry recorded inside it, also
 * after awaits, names that actor (a request handler wraps its work with the caller's identity).
 */
export function withActor<T>(actor: string, fn: () => T): T {
  return ambientActor.run(actor, fn);
}

export interface AuditTrailOptions {
  /**
   * Who acts when no `withActor` is in effect: a name, or a function asked at each entry.
   * Default: unknown (entries without `actor`).
   */
  actor?: string | (() => string | undefined);
  /**
   * Redact secrets in entries (details and actor) before they are stored: `true` for the
   * default patterns, or options. Default `true`: a trail is kept long and exported.
   */
  redaction?: boolean | RedactionOptions;
  /**
   * Called when an entry cannot be stored. The audited operation has happened by then and is
   * not undone or failed. Default: a process warning (`ASM_AUDIT`).
   */
  onError?: (error: AsmError) => void;
}

/** A new entry's fields; `id` defaults to a new one, `at` to now, `actor` to the ambient one. */
export interface AuditRecordInput {
  action: AuditAction;
  id?: string;
  at?: string;
  actor?: string;
  sessionId?: string;
  runId?: string;
  details?: JsonObject;
}

/**
 * The audit trail: who created, completed, failed or cancelled sessions, who submitted,
 * cancelled or interrupted runs, who decided approvals, which policies runs ran under, and
 * what maintenance did. Entries live in an `AuditStore`, beside the session log.
 *
 * It records by observing the public seams, with no change to the manager: wrap the session
 * store once (`trail.wrapStore(store)`) and give the wrapped one to everything — the manager,
 * `ApprovalGate`, `SessionServer` — and add `trail.extension()` to the manager's extensions for
 * `policy_attached`. Entries about stored events take their ids from the events, so a retried
 * or duplicated write (an approval decided twice) is still one entry.
 */
export class AuditTrail {
  private readonly redactor: Redactor | undefined;
  private readonly actorOf: () => string | undefined;
  private readonly onError: (error: AsmError) => void;

  constructor(
    readonly store: AuditStore,
    options: AuditTrailOptions = {},
  ) {
    this.redactor = createRedactor(options.redaction ?? true);
    const { actor } = options;
    this.actorOf = typeof actor === "function" ? actor : () => actor;
    this.onError =
      options.onError ??
      ((error) => process.emitWarning(`audit entry not stored: ${error.message}`, { code: "ASM_AUDIT" }));
  }

  /** Records one entry (redacted); resolves once stored, or once a failure went to `onError`. */
  async record(input: AuditRecordInput): Promise<void> {
    const actor = input.actor ?? ambientActor.getStore() ?? this.actorOf();
    const entry = {
      id: input.id ?? newAuditId(),
      at: input.at ?? new Date().toISOString(),
      action: input.action,
      ...(actor !== undefined ? { actor } : {}),
      ...(input.sessionId !== undefined ? { sessionId: input.sessionId } : {}),
      ...(input.runId !== undefined ? { runId: input.runId } : {}),
      details: input.details ?? {},
    };
    try {
      await this.store.append([this.redactor ? this.redactor.redactValue(entry).value : entry]);
    } catch (error) {
      this.onError(AsmError.from(error, "storage_error"));
    }
  }

  /** Entries matching `query`, a page at a time (`after` the last one's `sequence`). */
  query(query?: AuditQuery): Promise<AuditEntry[]> {
    return this.store.query(query);
  }

  /** Every entry matching `query` (its `limit` ignored), as JSON Lines: one entry per line. */
  async *exportJsonl(query: Omit<AuditQuery, "limit"> = {}): AsyncGenerator<string> {
    let after = query.after ?? 0;
    for (;;) {
      const page = await this.store.query({ ...query, after, limit: MAX_AUDIT_PAGE });
      for (const entry of page) yield `${JSON.stringify(entry)}\n`;
      const last = page.at(-1);
      if (!last || page.length < MAX_AUDIT_PAGE) return;
      after = last.sequence;
    }
  }

  /**
   * The store, recording what goes through it: session lifecycle events, new runs, run cancels
   * and interrupts, approval decisions; and, through `store.maintenance` when it has one,
   * retention and recovery. Everything else passes straight through. The wrapped store's
   * other members (a durable store's `query`, its queue) are the original's.
   */
  wrapStore<S extends SessionStore>(store: S): S {
    // One at a time, so the trail keeps the log's order.
    const observe = async (events: readonly AsmEvent[]) => {
      for (const event of events) await this.observeEvent(store, event);
    };
    const overrides: Partial<Record<PropertyKey, unknown>> = {
      saveRun: async (run: Run, options?: Parameters<SessionStore["saveRun"]>[1]) => {
        const stored = await store.saveRun(run, options);
        if (run.status === "pending" && options?.expectedStatus === undefined) {
          await this.record({
            id: `aud_submitted_${run.id}`,
            action: "run_submitted",
            sessionId: run.sessionId,
            runId: run.id,
            at: run.createdAt,
            details: { input: inputKind(run) },
          });
        }
        await observe(stored);
        return stored;
      },
      appendEvent: async (draft: Parameters<SessionStore["appendEvent"]>[0]) => {
        const stored = await store.appendEvent(draft);
        await observe([stored]);
        return stored;
      },
      appendEvents: async (drafts: Parameters<SessionStore["appendEvents"]>[0]) => {
        const stored = await store.appendEvents(drafts);
        await observe(stored);
        return stored;
      },
    };
    const bound = new Map<PropertyKey, unknown>();
    return new Proxy(store, {
      get: (target, property) => {
        if (property in overrides) return overrides[property];
        if (property === "maintenance") {
          const maintenance = Reflect.get(target, property, target) as Maintenance | undefined;
          return maintenance ? this.wrapMaintenance(maintenance) : maintenance;
        }
        const value = Reflect.get(target, property, target);
        if (typeof value !== "function") return value;
        // Methods run on the store itself: its private fields are not on the proxy.
        if (!bound.has(property)) bound.set(property, value.bind(target));
        return bound.get(property);
      },
    });
  }

  /** `maintenance`, recording each `applyRetention` and `recoverOrphanedRuns` with its report. */
  wrapMaintenance(maintenance: Maintenance): Maintenance {
    return {
      applyRetention: async (policy) => {
        const report = await maintenance.applyRetention(policy);
        await this.record({
          action: "maintenance_executed",
          details: { operation: "apply_retention", policy: toJson(policy), report: toJson(report) },
        });
        return report;
      },
      recoverOrphanedRuns: async (options) => {
        const report = await maintenance.recoverOrphanedRuns(options);
        await this.record({
          action: "maintenance_executed",
          details: { operation: "recover_orphaned_runs", report: toJson(report) },
        });
        return report;
      },
      healthCheck: (options) => maintenance.healthCheck(options),
    };
  }

  /** A run extension recording `policy_attached` for each run executed under a policy. */
  extension(): RunExtension {
    return {
      specificationVersion: RUN_EXTENSION_SPECIFICATION,
      name: "audit",
      start: async ({ run, options }) => {
        const policies = [
          options.policy,
          ...(Array.isArray(options.policies) ? options.policies : []),
        ].filter((policy) => policy !== undefined);
        if (policies.length === 0) return undefined;
        await this.record({
          id: `aud_policy_${run.id}`,
          action: "policy_attached",
          sessionId: run.sessionId,
          runId: run.id,
          details: { policies: toJson(policies) },
        });
        return undefined;
      },
    };
  }

  private async observeEvent(store: SessionStore, event: AsmEvent): Promise<void> {
    const where = {
      id: `aud_${event.id}`,
      at: event.timestamp,
      sessionId: event.sessionId,
      ...(event.runId !== undefined ? { runId: event.runId } : {}),
    };
    switch (event.type) {
      case "session_created": {
        // The event names the provider; the session says who the agent is.
        const session = await store.getSession(event.sessionId).catch(() => undefined);
        await this.record({
          ...where,
          action: "session_created",
          details: {
            ...(event.data.provider ? { provider: event.data.provider } : {}),
            ...(session ? { agentId: session.agentId, tags: session.tags } : {}),
            ...(session?.parentSessionId ? { parentSessionId: session.parentSessionId } : {}),
          },
        });
        return;
      }
      case "session_completed":
        return this.record({ ...where, action: "session_completed" });
      case "session_failed":
        return this.record({
          ...where,
          action: "session_failed",
          details: { errorCode: event.data.errorCode, errorMessage: event.data.errorMessage },
        });
      case "session_cancelled":
        return this.record({
          ...where,
          action: "session_cancelled",
          details: event.data.reason !== undefined ? { reason: event.data.reason } : {},
        });
      case "run_cancelled":
        return this.record({
          ...where,
          action: event.data.interrupted === true ? "run_interrupted" : "run_cancelled",
          details: event.data.reason !== undefined ? { reason: event.data.reason } : {},
        });
      case "tool_approval_granted":
      case "tool_approval_denied": {
        const { approvalId, toolName, by, note } = event.data;
        const reason = event.type === "tool_approval_denied" ? event.data.reason : undefined;
        return this.record({
          ...where,
          action: "approval_decided",
          // The decider, as the decision names them; an expiry names nobody.
          ...(typeof by === "string" ? { actor: by } : {}),
          details: {
            decision: event.type === "tool_approval_granted" ? "granted" : "denied",
            toolName,
            ...(approvalId !== undefined ? { approvalId } : {}),
            ...(reason !== undefined ? { reason } : {}),
            ...(typeof note === "string" ? { note } : {}),
          },
        });
      }
    }
  }
}

/** A time-ordered id as `newId` makes, under the audit trail's own prefix. */
function newAuditId(): string {
  return `aud_${newId("evt").slice("evt_".length)}`;
}

/** How a run's input was given, without its content (which the session log already keeps). */
function inputKind(run: Run): string {
  if (run.input.command) return "command";
  if (run.input.messages) return "messages";
  return "prompt";
}

/** A JSON-safe copy (drops undefined, functions; dates as strings). */
function toJson(value: unknown): JsonObject[string] {
  return JSON.parse(JSON.stringify(value ?? null)) as JsonObject[string];
}

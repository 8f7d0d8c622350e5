import { z } from "zod";
import type { StorableReport } from "./storable.js";

// Nested shapes are plain objects (extra keys allowed, not typed); top-level data is loose so
// providers can add typed extras.
const tokenUsageSchema = z.object({
  inputTokens: z.number().int().nonnegative(),
  outputTokens: z.number().int().nonnegative(),
  cacheReadTokens: z.number().int().nonnegative().optional(),
  cacheWriteTokens: z.number().int().nonnegative().optional(),
  reasoningTokens: z.number().int().nonnegative().optional(),
});

const providerErrorSchema = z.object({
  provider: z.string(),
  kind: z.string(),
  message: z.string(),
  exitCode: z.number().int().optional(),
  stderr: z.string().optional(),
  truncated: z.boolean().optional(),
});

const failureSchema = z.looseObject({
  errorCode: z.string().min(1),
  errorMessage: z.string(),
  providerError: providerErrorSchema.optional(),
  details: z.record(z.string(), z.unknown()).optional(),
});

const role = z.enum(["user", "assistant", "system", "tool"]);
/** Unique within the session: what pairs a tool call's start with its end. */
const toolCallIdSchema = z.string().min(1);
/**
 * The provider's own id for the call, when it differs from `toolCallId` because the provider
 * reuses ids across runs (Codex's `item_0`; its `toolCallId` is `<runId>:<native id>`).
 */
const nativeToolCallIdSchema = z.string().min(1).optional();
const empty = z.looseObject({});

/**
 * The `data` schema of each of the 28 canonical event types. Objects are loose: providers may
 * add fields, and the named fields are the contract every reader can rely on.
 */
export const EVENT_DATA_SCHEMAS = {
  session_created: z.looseObject({ provider: z.string().optional() }),
  session_started: empty,
  session_paused: z.looseObject({ reason: z.string().optional() }),
  session_resumed: empty,
  session_completed: empty,
  session_failed: failureSchema,
  session_cancelled: z.looseObject({ reason: z.string().optional() }),

  run_started: z.looseObject({
    model: z.string().optional(),
    /** The provider's own id for the conversation (Claude session id, Codex thread id). */
    providerSessionId: z.string().optional(),
  }),
  run_completed: z.looseObject({
    stopReason: z.string(),
    tokenUsage: tokenUsageSchema,
    durationMs: z.number().nonnegative(),
    costUsd: z.number().nonnegative().nullable().optional(),
  }),
  run_failed: failureSchema.extend({ durationMs: z.number().nonnegative().optional() }),
  run_cancelled: z.looseObject({ reason: z.string().optional() }),
  run_timeout: z.looseObject({ timeoutMs: z.number().nonnegative() }),

  message_sent: z.looseObject({ role, content: z.string() }),
  message_received: z.looseObject({ role, content: z.string() }),
  message_streamed: z.looseObject({
    delta: z.string(),
    /** Which output stream the text came from, for processes (stdout, stderr). */
    stream: z.string().optional(),
  }),

  tool_call_started: z.looseObject({
    toolCallId: toolCallIdSchema,
    nativeToolCallId: nativeToolCallIdSchema,
    toolName: z.string().min(1),
    toolInput: z.record(z.string(), z.unknown()),
  }),
  tool_call_completed: z.looseObject({
    toolCallId: toolCallIdSchema,
    nativeToolCallId: nativeToolCallIdSchema,
    toolName: z.string().min(1),
    toolOutput: z.unknown(),
  }),
  tool_call_failed: z.looseObject({
    toolCallId: toolCallIdSchema,
    nativeToolCallId: nativeToolCallIdSchema,
    toolName: z.string().min(1),
    toolOutput: z.unknown().optional(),
    errorMessage: z.string().optional(),
  }),

  /** Usage added by one step (turn, message); `cumulative` is the run's total so far. */
  token_usage_updated: z.looseObject({ ...tokenUsageSchema.shape, cumulative: tokenUsageSchema.optional() }),
  turn_completed: z.looseObject({
    turn: z.number().int().positive(),
    stopReason: z.string().optional(),
  }),

  error_occurred: failureSchema.extend({
    /** False when the run goes on after the error (a skipped malformed line, a warning). */
    fatal: z.boolean().optional(),
  }),
  error_recovered: z.looseObject({ errorCode: z.string(), message: z.string().optional() }),

  workspace_snapshot_taken: z.looseObject({
    /** `before` / `after` for a run's snapshots. */
    label: z.string(),
    backend: z.string(),
    /** git: the snapshot commit (under `refs/asm/snapshots/`); hash: the manifest's SHA-256. */
    ref: z.string(),
    snapshotId: z.string().optional(),
    path: z.string().optional(),
    includesUntracked: z.boolean().optional(),
  }),
  workspace_diff_computed: z.looseObject({
    filesChanged: z.number().int().nonnegative(),
    insertions: z.number().int().nonnegative(),
    deletions: z.number().int().nonnegative(),
    hasPatch: z.boolean(),
    /** The changed paths, sorted. */
    paths: z.array(z.string()).optional(),
    includesUntracked: z.boolean().optional(),
    /** The patch inline (within `maxPatchBytes`), or the artifact key it was stored under. */
    patch: z.string().optional(),
    patchRef: z.string().optional(),
    patchBytes: z.number().int().nonnegative().optional(),
  }),

  policy_violation: z.looseObject({
    policy: z.string(),
    kind: z.string(),
    action: z.string(),
    details: z.record(z.string(), z.unknown()),
  }),
  tool_approval_requested: z.looseObject({
    approvalId: z.string().optional(),
    toolName: z.string().min(1),
    toolCallId: z.string().optional(),
    toolInput: z.record(z.string(), z.unknown()).optional(),
    policyName: z.string(),
    violationKind: z.string().optional(),
  }),
  tool_approval_granted: z.looseObject({
    approvalId: z.string().optional(),
    toolName: z.string().min(1),
  }),
  tool_approval_denied: z.looseObject({
    approvalId: z.string().optional(),
    toolName: z.string().min(1),
    reason: z.string().optional(),
  }),
} as const;

export type EventType = keyof typeof EVENT_DATA_SCHEMAS;
export type EventData<T extends EventType> = z.infer<(typeof EVENT_DATA_SCHEMAS)[T]>;

export const EVENT_TYPES = Object.keys(EVENT_DATA_SCHEMAS) as readonly EventType[];

/** The events that end a run. Exactly one of them is written per run, by the SessionManager. */
export const TERMINAL_RUN_EVENT_TYPES = [
  "run_completed",
  "run_failed",
  "run_cancelled",
  "run_timeout",
] as const satisfies readonly EventType[];
export type TerminalRunEventType = (typeof TERMINAL_RUN_EVENT_TYPES)[number];

const EVENT_TYPE_SET: ReadonlySet<string> = new Set(EVENT_TYPES);
const TERMINAL_SET: ReadonlySet<string> = new Set(TERMINAL_RUN_EVENT_TYPES);

export function isEventType(value: unknown): value is EventType {
  return typeof value === "string" && EVENT_TYPE_SET.has(value);
}

export function isTerminalRunEventType(type: EventType): type is TerminalRunEventType {
  return TERMINAL_SET.has(type);
}

/** A schema problem found in an event's data; stored in `metadata.validationIssues`. */
export interface ValidationIssue {
  path: string;
  message: string;
}

/** Free-form facts about an event that are not part of its data. */
export interface EventMetadata {
  /** Present when `data` did not match its type's schema; the event was stored anyway. */
  validationIssues?: ValidationIssue[];
  /** Present when redaction replaced secrets in this event before it was stored. */
  redactions?: number;
  /** With `redactions`: the fields changed, e.g. `data.toolInput.command`, `metadata.note`. */
  redactedFields?: string[];
  /**
   * Present when the event was cut or cleaned to be storable (`EVENT_LIMITS`): what was
   * changed and where. The changed values carry a visible marker (`"[truncated: …]"`).
   */
  truncated?: StorableReport;
  [key: string]: unknown;
}

interface EventEnvelope<T extends EventType> {
  id: string;
  type: T;
  sessionId: string;
  runId?: string;
  /** Position in the session's log: 1, 2, 3, … assigned by the store, never reused. */
  sequence: number;
  /** ISO 8601 UTC. */
  timestamp: string;
  provider?: string;
  data: EventData<T>;
  metadata: EventMetadata;
}

/** A stored event: one discriminated union over all 28 types, narrowed by `type`. */
export type AsmEvent = { [T in EventType]: EventEnvelope<T> }[EventType];

/** The stored event of one type. */
export type EventOf<T extends EventType> = Extract<AsmEvent, { type: T }>;

/** An event ready to be appended: everything but the sequence, which the store assigns. */
export type EventDraft = { [T in EventType]: Omit<EventEnvelope<T>, "sequence"> }[EventType];

/** What a provider adapter emits; the pipeline adds ids, session, run and provider. */
export type AdapterEvent = {
  [T in EventType]: {
    type: T;
    data: EventData<T>;
    /** When the provider says it happened (ISO 8601); defaults to when it was received. */
    timestamp?: string;
    metadata?: EventMetadata;
  };
}[EventType];

/** Checks `data` against its type's schema; returns the problems, empty when it conforms. */
export function validateEventData(type: EventType, data: unknown): ValidationIssue[] {
  const result = EVENT_DATA_SCHEMAS[type].safeParse(data);
  if (result.success) return [];
  return result.error.issues.map((issue) => ({
    path: issue.path.map(String).join("."),
    message: issue.message,
  }));
}

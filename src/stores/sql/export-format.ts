import { z } from "zod";
import { type ErrorCode, isErrorCode } from "../../core/errors.js";
import { type AsmEvent, EVENT_TYPES, type EventType } from "../../core/events.js";
import { PROVIDER_ERROR_KINDS } from "../../core/provider-error.js";
import { RUN_STATUSES, type Run } from "../../core/run.js";
import { SESSION_STATUSES, type Session } from "../../core/session.js";
import { zodIssues } from "../../core/validation.js";
import type { SessionExport } from "../../ports/query-api.js";
import { validationError } from "../shared/errors.js";

/**
 * The schema `importSession` checks an export against. Values are kept exactly as exported
 * (timestamps are checked, not rewritten), so an export imported elsewhere exports the same again.
 * Nested objects are loose: whatever extra fields a store kept, the import keeps too.
 */

const text = z.string().min(1);
const timestamp = z.string().refine((value) => !Number.isNaN(Date.parse(value)), "must be an ISO 8601 date");
const object = z.record(z.string(), z.unknown());
const count = z.number().int().nonnegative();

const tokenUsage = z.looseObject({
  inputTokens: count,
  outputTokens: count,
  cacheReadTokens: count.optional(),
  cacheWriteTokens: count.optional(),
  reasoningTokens: count.optional(),
});

const serializedError = z.looseObject({
  code: z.custom<ErrorCode>(isErrorCode, "must be an error code"),
  message: z.string(),
  details: object.optional(),
  providerError: z
    .looseObject({
      provider: z.string(),
      kind: z.enum(PROVIDER_ERROR_KINDS),
      message: z.string(),
      exitCode: z.number().int().optional(),
      stderr: z.string().optional(),
      truncated: z.boolean().optional(),
    })
    .optional(),
  hint: z.string().optional(),
});

const sessionSchema = z.object({
  id: text,
  agentId: text,
  status: z.enum(SESSION_STATUSES),
  parentSessionId: text.optional(),
  metadata: object,
  context: object,
  tags: z.array(z.string()),
  createdAt: timestamp,
  updatedAt: timestamp,
  deletedAt: timestamp.optional(),
}) satisfies z.ZodType<Session>;

const runSchema = z.object({
  id: text,
  sessionId: text,
  status: z.enum(RUN_STATUSES),
  input: z.looseObject({
    prompt: z.string().optional(),
    messages: z
      .array(z.looseObject({ role: z.enum(["user", "system", "assistant"]), content: z.string() }))
      .optional(),
    command: z.array(z.string()).optional(),
  }),
  output: z.looseObject({ content: z.string() }).optional(),
  error: serializedError.optional(),
  metadata: object,
  turnCount: count,
  tokenUsage,
  costUsd: z.number().nonnegative().nullable(),
  provider: text.optional(),
  providerMetadata: object,
  owner: z.looseObject({ hostname: z.string(), pid: z.number().int() }).optional(),
  createdAt: timestamp,
  startedAt: timestamp.optional(),
  endedAt: timestamp.optional(),
}) satisfies z.ZodType<Run>;

const eventSchema = z.object({
  id: text,
  type: z.custom<EventType>((value) => EVENT_TYPES.some((type) => type === value), "must be an event type"),
  sessionId: text,
  runId: text.optional(),
  sequence: z.number().int().positive(),
  timestamp,
  provider: text.optional(),
  data: object,
  metadata: object,
});

const exportSchema = z
  .object({
    format: z.literal("agent-session-manager/session"),
    version: z.literal(1),
    exportedAt: timestamp,
    session: sessionSchema,
    runs: z.array(runSchema),
    events: z.array(eventSchema),
    artifacts: z.array(z.looseObject({ key: text, size: count.optional(), sha256: z.string().optional() })),
  })
  .superRefine((data, context) => {
    const sessionId = data.session.id;
    data.runs.forEach((run, index) => {
      if (run.sessionId !== sessionId) {
        context.addIssue({
          code: "custom",
          path: ["runs", index, "sessionId"],
          message: "must be the session's id",
        });
      }
    });
    let previous = 0;
    data.events.forEach((event, index) => {
      if (event.sessionId !== sessionId) {
        context.addIssue({
          code: "custom",
          path: ["events", index, "sessionId"],
          message: "must be the session's id",
        });
      }
      if (event.sequence <= previous) {
        context.addIssue({
          code: "custom",
          path: ["events", index, "sequence"],
          message: "sequences must increase strictly, in log order",
        });
      }
      previous = event.sequence;
    });
  });

/** The export, checked: a malformed one is `validation_error` listing every problem in `details.issues`. */
export function parseSessionExport(data: unknown): SessionExport {
  const result = exportSchema.safeParse(data);
  if (!result.success) {
    const issues = zodIssues(result.error);
    throw validationError(
      `not a valid session export: ${issues
        .slice(0, 3)
        .map(({ path, message }) => `${path || "(root)"} ${message}`)
        .join("; ")}`,
      { field: "data", issues },
    );
  }
  const { events, ...rest } = result.data;
  // Every event passed the envelope schema; data is checked per type by the pipeline that wrote
  // it, not by stores, so the union cannot be narrowed further here.
  return { ...rest, events: events as AsmEvent[] };
}

import { z } from "zod";
import { EVENT_TYPES } from "../core/events.js";
import { RUN_STATUSES } from "../core/run.js";
import { SESSION_STATUSES } from "../core/session.js";
import { MAX_EVENT_PAGE } from "../ports/session-store.js";

/**
 * Ids as the library makes them (`ses_…`, `run_…`, `apr_…`) and imported ones: letters, digits,
 * `_` and `-`, at most 128. Anything else is refused before it reaches a store or a file name.
 */
export const idSchema = z
  .string()
  .regex(
    /^[A-Za-z0-9][A-Za-z0-9_-]{0,127}$/,
    "an id is 1-128 letters, digits, _ or -, starting alphanumeric",
  );

export const sessionParams = z.strictObject({ sessionId: idSchema });
export const runParams = z.strictObject({ sessionId: idSchema, runId: idSchema });
export const approvalParams = z.strictObject({ sessionId: idSchema, approvalId: idSchema });

const nonNegativeInt = z.coerce.number().int().nonnegative();
const isoTime = z.iso.datetime({ offset: true });
/** A query list: `a,b` or the key repeated; the route reads repeated keys into one string joined by `,`. */
const csv = <T extends z.ZodType>(item: T) =>
  z
    .string()
    .transform((value) => value.split(",").filter((part) => part.length > 0))
    .pipe(z.array(item) as unknown as z.ZodType<z.output<T>[], string[]>);

export const listSessionsQuery = z.strictObject({
  status: csv(z.enum(SESSION_STATUSES)).optional(),
  agentId: z.string().min(1).optional(),
  provider: z.string().min(1).optional(),
  tags: csv(z.string().min(1)).optional(),
  createdAfter: isoTime.optional(),
  createdBefore: isoTime.optional(),
  orderBy: z.enum(["created_desc", "created_asc", "updated_desc"]).optional(),
  limit: z.coerce.number().int().min(1).max(1000).optional(),
  cursor: z.string().min(1).max(1000).optional(),
});

const jsonObject = z.record(z.string(), z.unknown());

export const createSessionBody = z.strictObject({
  agentId: z.string().min(1).max(200),
  parentSessionId: idSchema.optional(),
  metadata: jsonObject.optional(),
  context: jsonObject.optional(),
  tags: z.array(z.string().min(1).max(200)).max(100).optional(),
});

export const reasonBody = z.strictObject({ reason: z.string().min(1).max(2000).optional() });

const runInput = z.union([
  z.string().min(1),
  z.strictObject({
    prompt: z.string().optional(),
    messages: z
      .array(z.strictObject({ role: z.enum(["user", "system", "assistant"]), content: z.string() }))
      .optional(),
    command: z.array(z.string()).optional(),
  }),
]);

/**
 * A run's workspace as a request may give it: a `path` inside one of the server's workspace
 * roots (relative paths resolve against the first root). The server refuses any other path.
 */
export const workspaceBody = z.strictObject({
  path: z.string().min(1).max(4096),
  strategy: z.enum(["git", "hash", "auto"]).optional(),
  ignore: z.array(z.string().min(1)).optional(),
  capturePatch: z.boolean().optional(),
  maxPatchBytes: z.number().int().nonnegative().optional(),
  rollbackOnFailure: z.boolean().optional(),
});

const capability = z.union([
  z.string().min(1),
  z.strictObject({ type: z.string().min(1), name: z.string().optional() }),
]);

export const submitRunBody = z.strictObject({
  input: runInput,
  /** With a router: the provider to try first; else it must be the server's provider. */
  provider: z.string().min(1).max(100).optional(),
  /** Set as `providerOptions[provider].model`. */
  model: z.string().min(1).max(200).optional(),
  /** The policy extension's option, validated by it. */
  policy: jsonObject.optional(),
  policies: z.array(jsonObject).optional(),
  continuation: z.union([z.enum(["native", "replay", "auto"]), z.literal(false)]).optional(),
  continuationOptions: jsonObject.optional(),
  workspace: workspaceBody.optional(),
  timeoutMs: z.number().int().positive().optional(),
  providerOptions: z.record(z.string(), jsonObject).optional(),
  metadata: jsonObject.optional(),
  requiredCapabilities: z.array(capability).optional(),
  optionalCapabilities: z.array(capability).optional(),
});

export const listRunsQuery = z.strictObject({
  status: z.enum(RUN_STATUSES).optional(),
  limit: z.coerce.number().int().min(1).max(1000).optional(),
});

/** Longest long-poll a request may ask for: past it, proxies and clients tend to give up. */
export const MAX_WAIT_MS = 120_000;

export const awaitRunQuery = z.strictObject({
  timeoutMs: z.coerce.number().int().min(1).max(MAX_WAIT_MS).optional(),
});

export const eventsQuery = z.strictObject({
  after: nonNegativeInt.optional(),
  limit: z.coerce.number().int().min(1).max(MAX_EVENT_PAGE).optional(),
  types: csv(z.enum(EVENT_TYPES as [string, ...string[]])).optional(),
  runId: idSchema.optional(),
  /** Long-poll: when no event matches yet, wait this long for one. Default 0. */
  waitTimeoutMs: z.coerce.number().int().min(0).max(MAX_WAIT_MS).optional(),
});

export const streamQuery = z.strictObject({
  after: nonNegativeInt.optional(),
  types: csv(z.enum(EVENT_TYPES as [string, ...string[]])).optional(),
  runId: idSchema.optional(),
});

export const usageQuery = z.strictObject({
  sessionId: idSchema.optional(),
  agentId: z.string().min(1).optional(),
  provider: z.string().min(1).optional(),
  since: isoTime.optional(),
  until: isoTime.optional(),
});

export const approveBody = z.strictObject({
  by: z.string().min(1).max(200).optional(),
  note: z.string().max(2000).optional(),
});

export const denyBody = approveBody.extend({ reason: z.string().min(1).max(2000).optional() });

/** The JSON error body, for the OpenAPI document. */
export const errorBodySchema = z.object({
  code: z.string(),
  message: z.string(),
  hint: z.string().optional(),
  details: jsonObject.optional(),
});

import { z } from "zod";
import { CAPABILITY_TYPES } from "../core/capabilities.js";
import type { AsmEvent } from "../core/events.js";
import type { InputMessage, RunInput } from "../core/run.js";
import { parseWith } from "../core/validation.js";

const jsonObject = z.record(z.string(), z.unknown());

export const startSessionSchema = z.strictObject({
  agentId: z.string().min(1),
  parentSessionId: z.string().min(1).optional(),
  metadata: jsonObject.optional(),
  context: jsonObject.optional(),
  tags: z.array(z.string().min(1)).optional(),
});

const inputMessageSchema = z.strictObject({
  role: z.enum(["user", "system", "assistant"]),
  content: z.string(),
});

export const runInputSchema = z
  .strictObject({
    prompt: z.string().optional(),
    messages: z.array(inputMessageSchema).optional(),
    command: z.array(z.string()).min(1).optional(),
  })
  .refine((input) => input.prompt !== undefined || input.messages !== undefined || input.command, {
    message: "run input needs a prompt, messages or a command",
  });

const requirement = z.union([
  z.enum(CAPABILITY_TYPES),
  z.strictObject({ type: z.enum(CAPABILITY_TYPES), name: z.string().min(1).optional() }),
]);

export const startRunSchema = z.strictObject({
  requiredCapabilities: z.array(requirement).optional(),
  optionalCapabilities: z.array(requirement).optional(),
  metadata: jsonObject.optional(),
});

/** The `executeRun` options the manager itself owns; run extensions add theirs. */
export const EXECUTE_RUN_OPTION_SCHEMAS: Readonly<Record<string, z.ZodType>> = {
  onEvent: z.custom<(event: AsmEvent) => void>((value) => typeof value === "function").optional(),
  timeoutMs: z.number().int().nonnegative().optional(),
  signal: z.instanceof(AbortSignal).optional(),
  providerOptions: z.record(z.string().min(1), jsonObject).optional(),
};

export const streamEventsSchema = z.strictObject({
  after: z.number().int().nonnegative().optional(),
  follow: z.boolean().optional(),
  runId: z.string().min(1).optional(),
  types: z.array(z.string()).optional(),
  pageSize: z.number().int().min(1).max(1000).optional(),
  signal: z.instanceof(AbortSignal).optional(),
});

/** Parses caller input with a schema, turning problems into one `validation_error`. */
export function parseOptions<S extends z.ZodType>(schema: S, value: unknown, what: string): z.output<S> {
  return parseWith(schema, value ?? {}, what);
}

/** Accepts a bare prompt string as shorthand for `{ prompt }`. */
export function parseRunInput(input: RunInput | string): RunInput {
  return parseOptions(runInputSchema, typeof input === "string" ? { prompt: input } : input, "run input");
}

/** The messages a run's input stands for; persisted as `message_sent` before the provider starts. */
export function inputMessages(input: RunInput): InputMessage[] {
  const messages: InputMessage[] = [...(input.messages ?? [])];
  if (input.prompt !== undefined) messages.push({ role: "user", content: input.prompt });
  if (input.command) messages.push({ role: "user", content: formatArgv(input.command) });
  return messages.filter((message) => message.content.length > 0);
}

/** An argv array as a person would type it (for display only; it is never executed as text). */
export function formatArgv(argv: readonly string[]): string {
  return argv
    .map((word) => (/^[\w@%+=:,./-]+$/.test(word) ? word : `'${word.replaceAll("'", `'\\''`)}'`))
    .join(" ");
}

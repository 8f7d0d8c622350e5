import type { z } from "zod";
import { AsmError } from "./errors.js";

/** One problem zod found, as `details.issues` lists it: a dotted path (empty for the root) and a message. */
export interface ValidationIssue {
  path: string;
  message: string;
}

/** The issues of a zod failure, as `details.issues` lists them. */
export function zodIssues(error: z.ZodError): ValidationIssue[] {
  return error.issues.map((issue) => ({ path: issue.path.map(String).join("."), message: issue.message }));
}

export interface InvalidInputOptions {
  /** What the user can do about it. */
  hint?: string;
  /** More facts for `details`, beside `issues`. */
  details?: Record<string, unknown>;
}

/**
 * A zod failure as the one error every input check raises: `validation_error`, a message naming
 * `what` and every problem, and the problems in `details.issues`.
 */
export function invalidInput(what: string, error: z.ZodError, options: InvalidInputOptions = {}): AsmError {
  const issues = zodIssues(error);
  const summary = issues.map((issue) => (issue.path ? `${issue.path}: ${issue.message}` : issue.message));
  return new AsmError("validation_error", `invalid ${what}: ${summary.join("; ")}`, {
    details: { ...options.details, issues },
    ...(options.hint ? { hint: options.hint } : {}),
  });
}

/** Parses `value` with `schema`; a failure is `invalidInput(what, …)`. */
export function parseWith<S extends z.ZodType>(
  schema: S,
  value: unknown,
  what: string,
  options: InvalidInputOptions = {},
): z.output<S> {
  const parsed = schema.safeParse(value);
  if (!parsed.success) throw invalidInput(what, parsed.error, options);
  return parsed.data;
}

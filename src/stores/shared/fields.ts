import { validationError } from "./errors.js";

/** Field checks for values that may come from JavaScript callers or JSON, whatever their static type. */

/** `entity` names the record in messages ("event", "run"); `details` identify it in the error. */
export function requireText(
  fields: Readonly<Record<string, unknown>>,
  field: string,
  entity: string,
  details: Record<string, unknown>,
): string {
  const value = fields[field];
  if (typeof value !== "string" || value === "") {
    throw validationError(`${entity} ${field} must be a non-empty string`, { ...details, field, value });
  }
  return value;
}

/** A plain JSON-style object: not null, not an array. */
export function requireObject(
  fields: Readonly<Record<string, unknown>>,
  field: string,
  entity: string,
  details: Record<string, unknown>,
): Record<string, unknown> {
  const value = fields[field];
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw validationError(`${entity} ${field} must be an object`, { ...details, field });
  }
  return value as Record<string, unknown>;
}

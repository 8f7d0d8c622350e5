/**
 * The permission modes every agent adapter understands, from most to least guarded. Each adapter
 * maps them to its provider's own setting and documents the mapping:
 *
 * - `default`: the provider's normal behaviour; anything that needs approval is asked for (and, in
 *   a headless run with no one to ask, refused).
 * - `accept_edits`: file edits in the working directory are approved automatically.
 * - `plan`: the agent may read and plan but not change anything.
 * - `full_auto`: the agent works without asking, within the provider's own guard rails (sandbox,
 *   classifier), where it has any.
 * - `dangerously_skip_permissions`: every check is off. Only for throwaway, isolated environments.
 */
export const PERMISSION_MODES = [
  "default",
  "accept_edits",
  "plan",
  "full_auto",
  "dangerously_skip_permissions",
] as const;

export type PermissionMode = (typeof PERMISSION_MODES)[number];

const MODE_SET: ReadonlySet<string> = new Set(PERMISSION_MODES);

export function isPermissionMode(value: unknown): value is PermissionMode {
  return typeof value === "string" && MODE_SET.has(value);
}

/**
 * Returns `value` as a permission mode, or a message saying why it is not one (for the caller to
 * wrap in its own error). Kept free of zod so that core stays dependency-light.
 */
export function checkPermissionMode(
  value: unknown,
): { ok: true; mode: PermissionMode } | { ok: false; message: string } {
  if (isPermissionMode(value)) return { ok: true, mode: value };
  return {
    ok: false,
    message: `invalid permission mode ${JSON.stringify(value)}; expected one of: ${PERMISSION_MODES.join(", ")}`,
  };
}

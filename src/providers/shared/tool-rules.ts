import type { ToolRestrictions } from "../../ports/provider-adapter.js";

/**
 * Canonical tool names (Claude Code's, which every adapter's events use where the concept is the
 * same; see `CODEX_TOOL_NAMES`) → a provider's own names. One canonical tool may be several
 * native ones (Amp's `Edit` is `edit_file` and `undo_edit`). A name the table does not list is
 * taken to be the same in both namings, so a policy may also name a provider's own tools.
 */
export type ToolNameTable = ReadonlyMap<string, readonly string[]>;

/** A run's tool rules (`ExecuteRequest.toolRules`) in one provider's naming. */
export interface NativeToolRules {
  /** The only tools the agent may use; undefined when the policy has no allow list. */
  allowed?: readonly string[];
  /** Tools the agent must not use (possibly empty). */
  denied: readonly string[];
}

/**
 * A provider's tool name in canonical naming, for its events (so policies and readers see one
 * vocabulary across providers). A name the table does not list is its own canonical name.
 */
export function toCanonicalToolName(name: string, table: ToolNameTable): string {
  for (const [canonical, natives] of table) if (natives.includes(name)) return canonical;
  return name;
}

/** `names` in the provider's naming, each once, in order. */
export function toNativeToolNames(names: readonly string[], table: ToolNameTable): string[] {
  return unique(names.flatMap((name) => table.get(name) ?? [name]));
}

/**
 * The request's tool rules in the provider's naming, or undefined when the run has none (so an
 * adapter can leave its invocation exactly as it was without a policy).
 */
export function nativeToolRules(
  rules: ToolRestrictions | undefined,
  table: ToolNameTable,
): NativeToolRules | undefined {
  if (rules?.allowedTools === undefined && rules?.deniedTools === undefined) return undefined;
  return {
    ...(rules.allowedTools !== undefined ? { allowed: toNativeToolNames(rules.allowedTools, table) } : {}),
    denied: toNativeToolNames(rules.deniedTools ?? [], table),
  };
}

/** Every entry of every list, each once, in order: how deny lists combine. */
export function unique(...lists: readonly (readonly string[])[]): string[] {
  return [...new Set(lists.flat())];
}

/** MCP tools are named `mcp__<server>__<tool>` by Claude Code and Amp alike. */
export function isMcpToolName(name: string): boolean {
  return name.startsWith("mcp__");
}

import type { ToolRestrictions } from "../ports/provider-adapter.js";
import { allowedByEveryList, type Policy, toolLists } from "./policy.js";

/**
 * A policy's tool rules as the port's `ToolRestrictions` (handed to adapters as
 * `ExecuteRequest.toolRules`). Names are the canonical tool names the policy was written with;
 * an adapter maps them to its provider's naming.
 */
export type CompiledToolRules = ToolRestrictions;

/**
 * Compiles the tool rules for enforcement by the provider itself, before a tool runs (the
 * manager's enforcement only sees a call once it started):
 *
 * - with allow lists: `allowedTools` = the tools every allow list names, minus every denied tool
 *   (an allow list already excludes everything else, so no `deniedTools` is needed);
 * - with deny lists only: `deniedTools` = every denied tool, each once;
 * - with no tool rules: `{}`.
 */
export function compileToolRules(policy: Policy): CompiledToolRules {
  const { allowLists, denied } = toolLists(policy);
  const allowed = allowedByEveryList(allowLists);
  if (allowed) return { allowedTools: [...allowed].filter((tool) => !denied.has(tool)) };
  return denied.size > 0 ? { deniedTools: [...denied] } : {};
}

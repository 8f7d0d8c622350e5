import { allowedByEveryList, type Policy, toolLists } from "./policy.js";

/**
 * A policy's tool rules as provider-side options, named as in the agent adapters' common options
 * (`AgentAdapterOptions.allowedTools` / `deniedTools`), so an adapter can spread it into them.
 * Names are the canonical tool names the policy was written with; an adapter maps them to its
 * provider's naming.
 */
export interface CompiledToolRules {
  /** The only tools the agent may use. */
  allowedTools?: string[];
  /** Tools the agent must not use (set only when there is no allow list). */
  deniedTools?: string[];
}

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

import { AsmError } from "./errors.js";

export const CAPABILITY_TYPES = [
  "tool",
  "resource",
  "prompt",
  "sampling",
  "file_access",
  "network_access",
  "code_execution",
] as const;
export type CapabilityType = (typeof CAPABILITY_TYPES)[number];

/** Something a provider can do, e.g. `{ name: "streaming", type: "sampling" }`. */
export interface Capability {
  name: string;
  type: CapabilityType;
  /** Default true. A disabled capability is declared but not offered. */
  enabled?: boolean;
  description?: string;
}

/** A requirement: any enabled capability of a type, or one with a specific name. */
export type CapabilityRequirement = CapabilityType | { type: CapabilityType; name?: string };

export interface CapabilityRequirements {
  /** Missing any of these fails with `missing_required_capability`. */
  required?: readonly CapabilityRequirement[];
  /** Missing any of these degrades the negotiation but does not fail it. */
  optional?: readonly CapabilityRequirement[];
}

export interface CapabilityNegotiation {
  /** `full` when every optional requirement is met too; `degraded` otherwise. */
  status: "full" | "degraded";
  supported: CapabilityRequirement[];
  unsupported: CapabilityRequirement[];
  warnings: string[];
}

export function describeRequirement(requirement: CapabilityRequirement): string {
  if (typeof requirement === "string") return requirement;
  return requirement.name ? `${requirement.type}:${requirement.name}` : requirement.type;
}

export function meetsRequirement(
  capabilities: readonly Capability[],
  requirement: CapabilityRequirement,
): boolean {
  const { type, name } =
    typeof requirement === "string" ? { type: requirement, name: undefined } : requirement;
  return capabilities.some(
    (capability) =>
      capability.enabled !== false &&
      capability.type === type &&
      (name === undefined || capability.name === name),
  );
}

/**
 * Checks what a provider offers against what a run needs.
 * Throws `missing_required_capability` when a required one is absent, and
 * `invalid_capability_type` for a type outside the known set.
 */
export function negotiateCapabilities(
  provider: string,
  capabilities: readonly Capability[],
  requirements: CapabilityRequirements,
): CapabilityNegotiation {
  const required = requirements.required ?? [];
  const optional = requirements.optional ?? [];
  for (const requirement of [...required, ...optional]) {
    const type = typeof requirement === "string" ? requirement : requirement.type;
    if (!(CAPABILITY_TYPES as readonly string[]).includes(type)) {
      throw new AsmError("invalid_capability_type", `unknown capability type "${type}"`, {
        details: { type, known: [...CAPABILITY_TYPES] },
      });
    }
  }
  const missing = required.filter((requirement) => !meetsRequirement(capabilities, requirement));
  if (missing.length > 0) {
    throw new AsmError(
      "missing_required_capability",
      `provider ${provider} lacks required capabilities: ${missing.map(describeRequirement).join(", ")}`,
      { details: { provider, missing: missing.map(describeRequirement) } },
    );
  }
  const unsupported = optional.filter((requirement) => !meetsRequirement(capabilities, requirement));
  return {
    status: unsupported.length === 0 ? "full" : "degraded",
    supported: [...required, ...optional.filter((requirement) => !unsupported.includes(requirement))],
    unsupported,
    warnings: unsupported.map(
      (requirement) => `provider ${provider} lacks optional capability ${describeRequirement(requirement)}`,
    ),
  };
}

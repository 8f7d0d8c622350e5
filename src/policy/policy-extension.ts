import { z } from "zod";
import { definePricingTable, type PricingTable } from "../cost/pricing-table.js";
import { RUN_EXTENSION_SPECIFICATION, type RunExtension } from "../ports/run-extension.js";
import { compileToolRules } from "./adapter-compiler.js";
import { PolicyEnforcer, type PolicyReport } from "./enforcer.js";
import { type Policy, type PolicyInput, policySchema, resolvePolicy } from "./policy.js";

declare module "../ports/run-extension.js" {
  interface RunExtensionOptions {
    /**
     * A policy enforced on the run (limits, tool rules, what a violation does; see `Policy`).
     * It is checked before the run starts: an impossible one is a `validation_error` and leaves
     * the run pending. Default: none.
     */
    policy?: PolicyInput;
    /** Policies stacked into one by `mergePolicies` (strictest wins). Give `policy` or this, not both. */
    policies?: PolicyInput[];
  }
  interface RunResultExtensions {
    /** How the run fared against its policy, when it had one. */
    policy: PolicyReport;
  }
}

/** The run options this extension owns, as their schemas parsed them. */
interface PolicyOptions {
  policy?: Policy;
  policies?: Policy[];
}

export interface PolicyExtensionOptions {
  /**
   * Prices for `maxCostUsd` while the run goes, validated when the extension is made (see
   * `definePricingTable`). Default `DEFAULT_PRICING`.
   */
  pricing?: PricingTable;
}

/**
 * Enforces the run's `policy` / `policies` (`executeRun` options): the tool rules are handed to
 * the provider (`ExecuteRequest.toolRules`) so it refuses a tool before it runs, and every stored
 * event is checked as a safety net (`PolicyEnforcer`). Under `onViolation: "cancel"` a violation
 * stops the provider and fails the run with `policy_violation`, even if the provider completed;
 * the result carries the `policy` report. Comes after the cost extension, whose figure it holds
 * `maxCostUsd` to at the end.
 */
export function policyExtension(options: PolicyExtensionOptions = {}): RunExtension {
  const enforcerOptions = options.pricing ? { pricing: definePricingTable(options.pricing) } : {};
  return {
    specificationVersion: RUN_EXTENSION_SPECIFICATION,
    name: "policy",
    optionSchemas: {
      // The stack is preflighted here, with the call's other options: an impossible policy is a
      // validation_error before anything is stored.
      policy: policySchema.optional(),
      policies: z.array(policySchema).optional(),
    },
    checkOptions: (runOptions) => {
      resolvePolicy(runOptions as PolicyOptions);
    },
    start: ({ options: runOptions, append, fail }) => {
      const policy = resolvePolicy(runOptions as PolicyOptions);
      if (!policy) return undefined;
      const enforcer = PolicyEnforcer.start(policy, { append, fail }, enforcerOptions);
      const toolRules = compileToolRules(policy);
      return {
        transformRequest: (request) =>
          toolRules.allowedTools || toolRules.deniedTools ? { ...request, toolRules } : request,
        onEvent: enforcer.observe,
        finish: async ({ tokenUsage, cost }) => {
          const report = await enforcer.conclude({
            tokenUsage,
            cost:
              cost === undefined || cost.usd === null
                ? { costUsd: null, warning: cost?.warning ?? "the run's cost is unknown" }
                : { costUsd: cost.usd },
          });
          return { result: { policy: report }, ...(enforcer.failure ? { failure: enforcer.failure } : {}) };
        },
        close: () => enforcer.stop(),
      };
    },
  };
}

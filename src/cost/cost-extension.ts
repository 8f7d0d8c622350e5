import { RUN_EXTENSION_SPECIFICATION, type RunExtension } from "../ports/run-extension.js";
import { runCost } from "./cost.js";
import { DEFAULT_PRICING, type PricingTable } from "./pricing-table.js";

export interface CostExtensionOptions {
  /**
   * Prices used when a provider does not report a run's cost itself.
   * Default: `DEFAULT_PRICING` (list prices of current Claude and OpenAI models).
   */
  pricing?: PricingTable;
}

/**
 * Prices every run at its end, whatever its outcome (failed and cancelled runs spent tokens
 * too): the provider's own figure when it reported one, else its tokens at the model's price,
 * else `null` with `run.metadata.costWarning` — never a guessed price. Records the figure's
 * source in `run.metadata.costSource` (`provider`, `priced` or `unknown`).
 */
export function costExtension(options: CostExtensionOptions = {}): RunExtension {
  const table = options.pricing ?? DEFAULT_PRICING;
  return {
    specificationVersion: RUN_EXTENSION_SPECIFICATION,
    name: "cost",
    start: () => ({
      finish: ({ tokenUsage, model, reportedCostUsd }) => {
        const cost = runCost({ usage: tokenUsage, model, reportedCostUsd, table });
        const source =
          reportedCostUsd !== undefined ? "provider" : cost.costUsd === null ? "unknown" : "priced";
        return {
          cost: { usd: cost.costUsd, source, ...(cost.warning ? { warning: cost.warning } : {}) },
          metadata: { costSource: source, ...(cost.warning ? { costWarning: cost.warning } : {}) },
        };
      },
    }),
  };
}

import {
  type CostSource,
  RUN_EXTENSION_SPECIFICATION,
  type RunCostFigure,
  type RunExtension,
} from "../ports/run-extension.js";
import { runCost } from "./cost.js";
import { DEFAULT_PRICING, definePricingTable, type PricingTable } from "./pricing-table.js";

declare module "../ports/run-extension.js" {
  interface RunResultExtensions {
    /**
     * The run's cost and where it came from: `source` `provider` (the provider reported it),
     * `priced` (its tokens at the pricing table's rates) or `unknown` (`usd: null`); `warning`
     * when the figure is unknown or the model is not in the pricing table. `usd` equals `costUsd`.
     */
    cost: RunCostFigure;
  }
}

export interface CostExtensionOptions {
  /**
   * Prices used when a provider does not report a run's cost itself, validated when the extension
   * is made (`validation_error`); absent cache rates are the model's input rate.
   * Default: `DEFAULT_PRICING` (list prices of current Claude and OpenAI models).
   */
  pricing?: PricingTable;
}

/**
 * Prices every run at its end, whatever its outcome (failed and cancelled runs spent tokens
 * too): the provider's own figure when it reported one, else its tokens at the model's price,
 * else `null` — never a guessed price. Records on the run (whatever its outcome) the figure's
 * source in `run.metadata.costSource` (`provider`, `priced` or `unknown`) and any warning in
 * `run.metadata.costWarning` (an unknown cost, or a provider's figure for a model the pricing
 * table does not know); a completed run's result carries them as `cost: { usd, source, warning? }`.
 */
export function costExtension(options: CostExtensionOptions = {}): RunExtension {
  const table = options.pricing ? definePricingTable(options.pricing) : DEFAULT_PRICING;
  return {
    specificationVersion: RUN_EXTENSION_SPECIFICATION,
    name: "cost",
    start: () => ({
      finish: ({ tokenUsage, model, reportedCostUsd }) => {
        const cost = runCost({ usage: tokenUsage, model, reportedCostUsd, table });
        const source: CostSource =
          reportedCostUsd !== undefined ? "provider" : cost.costUsd === null ? "unknown" : "priced";
        const figure: RunCostFigure = {
          usd: cost.costUsd,
          source,
          ...(cost.warning ? { warning: cost.warning } : {}),
        };
        return {
          cost: figure,
          metadata: { costSource: source, ...(cost.warning ? { costWarning: cost.warning } : {}) },
          result: { cost: figure },
        };
      },
    }),
  };
}

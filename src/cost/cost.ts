import type { TokenUsage } from "../core/token-usage.js";
import { DEFAULT_PRICING, type ModelPrice, type PricingTable } from "./pricing-table.js";

/**
 * The price of `model`: its exact entry, else the longest entry that is a prefix of it ending at
 * a `-` boundary (so dated ids such as `claude-sonnet-4-5-20250929` find `claude-sonnet-4-5`,
 * while `gpt-5.6-sol` does not silently borrow `gpt-5`'s price). `undefined` when none fits.
 */
export function priceFor(model: string, table: PricingTable = DEFAULT_PRICING): ModelPrice | undefined {
  const exact = table[model];
  if (exact) return exact;
  let best: string | undefined;
  for (const key of Object.keys(table)) {
    if (model.startsWith(`${key}-`) && (best === undefined || key.length > best.length)) best = key;
  }
  return best === undefined ? undefined : table[best];
}

/**
 * USD for `usage` at `price`. `reasoningTokens` are part of `outputTokens`, so not added again.
 * Never `NaN`: an absent cache rate is the `input` rate, and an absent (or negative, or
 * non-finite) token count counts 0, so a partial usage prices what it has.
 */
export function costOf(usage: Partial<TokenUsage>, price: ModelPrice): number {
  const perMillion =
    tokenCount(usage.inputTokens) * price.input +
    tokenCount(usage.outputTokens) * price.output +
    tokenCount(usage.cacheReadTokens) * (price.cacheRead ?? price.input) +
    tokenCount(usage.cacheWriteTokens) * (price.cacheWrite ?? price.input);
  return perMillion / 1_000_000;
}

/** A token count fit for arithmetic: an absent or unusable one is 0. */
function tokenCount(value: number | undefined): number {
  return typeof value === "number" && Number.isFinite(value) && value > 0 ? value : 0;
}

/** A run's cost; `warning` says why it is unknown, or what a known figure could not be checked against. */
export type RunCost = { costUsd: number; warning?: string } | { costUsd: null; warning: string };

/**
 * What a run cost: the provider's own figure when it reported one (with a warning when the
 * pricing table does not know the model, so nobody mistakes it for a priced figure), else the
 * tokens priced by the model's entry. No tokens cost nothing; tokens of an unknown (or unnamed)
 * model have an unknown cost — `null` with a warning, never a guessed default price.
 */
export function runCost(input: {
  usage: TokenUsage;
  model?: string | undefined;
  reportedCostUsd?: number | undefined;
  table?: PricingTable | undefined;
}): RunCost {
  if (input.reportedCostUsd !== undefined) {
    const { model } = input;
    return model && !priceFor(model, input.table)
      ? {
          costUsd: input.reportedCostUsd,
          warning: `model "${model}" is not in the pricing table; the cost is the provider's own figure`,
        }
      : { costUsd: input.reportedCostUsd };
  }
  const { usage } = input;
  const tokens =
    tokenCount(usage.inputTokens) +
    tokenCount(usage.outputTokens) +
    tokenCount(usage.cacheReadTokens) +
    tokenCount(usage.cacheWriteTokens);
  if (tokens === 0) return { costUsd: 0 };
  if (!input.model)
    return { costUsd: null, warning: "the provider did not name the model, so its tokens have no price" };
  const price = priceFor(input.model, input.table);
  if (!price) {
    return {
      costUsd: null,
      warning: `no price for model "${input.model}"; pass a pricing table to SessionManager`,
    };
  }
  return { costUsd: costOf(usage, price) };
}

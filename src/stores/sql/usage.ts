import type { ExpressionBuilder } from "kysely";
import { isTerminalRunStatus, RUN_STATUSES } from "../../core/run.js";
import { addTokenUsage, type TokenUsage } from "../../core/token-usage.js";
import type { UsageTotals } from "../../ports/query-api.js";
import type { SqlFlavor } from "./flavor.js";
import type { RowCodec } from "./rows.js";
import type { AsmDatabase } from "./schema.js";

const FINISHED_RUN_STATUSES = RUN_STATUSES.filter(isTerminalRunStatus);

type Aggregate = number | string | null;

/** What `usageSelection` selects, as the driver returns it. */
export interface UsageSums {
  run_count: number | string;
  input_tokens: Aggregate;
  output_tokens: Aggregate;
  cache_read_tokens: Aggregate;
  cache_write_tokens: Aggregate;
  reasoning_tokens: Aggregate;
  cost_usd: Aggregate;
  unpriced_runs: number | string;
}

/**
 * Aggregates of the runs in scope: token buckets summed from the `token_usage` JSON (a bucket no
 * run reported sums to NULL and stays absent), the known costs summed, and the finished runs
 * whose cost is unknown counted as unpriced.
 */
export function usageSelection(eb: ExpressionBuilder<AsmDatabase, "runs">, flavor: SqlFlavor) {
  const bucket = (key: keyof TokenUsage) =>
    eb.fn.sum<Aggregate>(flavor.jsonNumber(eb.ref("runs.token_usage"), key));
  return [
    eb.fn.countAll<number | string>().as("run_count"),
    bucket("inputTokens").as("input_tokens"),
    bucket("outputTokens").as("output_tokens"),
    bucket("cacheReadTokens").as("cache_read_tokens"),
    bucket("cacheWriteTokens").as("cache_write_tokens"),
    bucket("reasoningTokens").as("reasoning_tokens"),
    eb.fn.sum<Aggregate>("runs.cost_usd").as("cost_usd"),
    eb.fn
      .countAll<number | string>()
      .filterWhere("runs.status", "in", FINISHED_RUN_STATUSES)
      .filterWhere("runs.cost_usd", "is", null)
      .as("unpriced_runs"),
  ] as const;
}

export function toUsageTotals(sums: UsageSums, codec: RowCodec): UsageTotals {
  const optional = (value: Aggregate): number | undefined =>
    value === null ? undefined : codec.number(value);
  const tokenUsage: TokenUsage = {
    inputTokens: optional(sums.input_tokens) ?? 0,
    outputTokens: optional(sums.output_tokens) ?? 0,
  };
  const buckets = {
    cacheReadTokens: optional(sums.cache_read_tokens),
    cacheWriteTokens: optional(sums.cache_write_tokens),
    reasoningTokens: optional(sums.reasoning_tokens),
  };
  for (const [bucket, value] of Object.entries(buckets) as [keyof typeof buckets, number | undefined][]) {
    if (value !== undefined) tokenUsage[bucket] = value;
  }
  return {
    runCount: codec.number(sums.run_count),
    tokenUsage,
    costUsd: optional(sums.cost_usd) ?? 0,
    unpricedRuns: codec.number(sums.unpriced_runs),
  };
}

export const EMPTY_USAGE_TOTALS: Readonly<UsageTotals> = Object.freeze({
  runCount: 0,
  tokenUsage: Object.freeze({ inputTokens: 0, outputTokens: 0 }),
  costUsd: 0,
  unpricedRuns: 0,
});

export function addUsageTotals(a: UsageTotals, b: UsageTotals): UsageTotals {
  return {
    runCount: a.runCount + b.runCount,
    tokenUsage: addTokenUsage(a.tokenUsage, b.tokenUsage),
    costUsd: a.costUsd + b.costUsd,
    unpricedRuns: a.unpricedRuns + b.unpricedRuns,
  };
}

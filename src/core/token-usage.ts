/**
 * Token counts for a run or a turn, in four disjoint billing buckets (Anthropic's convention;
 * adapters of providers that count cached tokens inside input subtract them). Absent buckets
 * were not reported by the provider.
 */
export interface TokenUsage {
  /** Input tokens not read from or written to the prompt cache. */
  inputTokens: number;
  outputTokens: number;
  cacheReadTokens?: number;
  cacheWriteTokens?: number;
  /** Part of `outputTokens` spent on reasoning, where the provider says so. */
  reasoningTokens?: number;
}

export const EMPTY_TOKEN_USAGE: Readonly<TokenUsage> = Object.freeze({ inputTokens: 0, outputTokens: 0 });

const OPTIONAL_BUCKETS = ["cacheReadTokens", "cacheWriteTokens", "reasoningTokens"] as const;

/** Adds two usages bucket by bucket; a bucket present in either side is present in the sum. */
export function addTokenUsage(a: TokenUsage, b: TokenUsage): TokenUsage {
  const sum: TokenUsage = {
    inputTokens: a.inputTokens + b.inputTokens,
    outputTokens: a.outputTokens + b.outputTokens,
  };
  for (const bucket of OPTIONAL_BUCKETS) {
    if (a[bucket] !== undefined || b[bucket] !== undefined) {
      sum[bucket] = (a[bucket] ?? 0) + (b[bucket] ?? 0);
    }
  }
  return sum;
}

export function totalTokens(usage: TokenUsage): number {
  return usage.inputTokens + usage.outputTokens;
}

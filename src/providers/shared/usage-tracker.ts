import { addTokenUsage, EMPTY_TOKEN_USAGE, type TokenUsage } from "../../core/token-usage.js";
import type { EventSink } from "../../ports/provider-adapter.js";

const BUCKETS = [
  "inputTokens",
  "outputTokens",
  "cacheReadTokens",
  "cacheWriteTokens",
  "reasoningTokens",
] as const;
type Bucket = (typeof BUCKETS)[number];

/** A token count from a provider as a non-negative integer: missing, negative or non-finite is 0. */
export function tokenCount(value: unknown): number {
  return typeof value === "number" && Number.isFinite(value) && value > 0 ? Math.floor(value) : 0;
}

/**
 * Builds a `TokenUsage` from provider counts, dropping optional buckets the provider did not
 * report (`undefined`/`null`), so "not reported" stays distinct from "zero".
 */
export function tokenUsage(counts: {
  input?: unknown;
  output?: unknown;
  cacheRead?: unknown;
  cacheWrite?: unknown;
  reasoning?: unknown;
}): TokenUsage {
  const usage: TokenUsage = {
    inputTokens: tokenCount(counts.input),
    outputTokens: tokenCount(counts.output),
  };
  if (counts.cacheRead != null) usage.cacheReadTokens = tokenCount(counts.cacheRead);
  if (counts.cacheWrite != null) usage.cacheWriteTokens = tokenCount(counts.cacheWrite);
  if (counts.reasoning != null) usage.reasoningTokens = tokenCount(counts.reasoning);
  return usage;
}

export function isZeroUsage(usage: TokenUsage): boolean {
  return BUCKETS.every((bucket) => (usage[bucket] ?? 0) === 0);
}

/**
 * `after - before`, bucket by bucket, or `undefined` when any bucket went down: the provider
 * restarted its count (a new process without the saved totals, a cleared conversation).
 */
export function usageDifference(after: TokenUsage, before: TokenUsage): TokenUsage | undefined {
  const diff: TokenUsage = { inputTokens: 0, outputTokens: 0 };
  for (const bucket of BUCKETS) {
    const a = after[bucket];
    const b = before[bucket] ?? 0;
    if (a === undefined) {
      if (b > 0) return undefined;
      continue;
    }
    if (a < b) return undefined;
    setBucket(diff, bucket, a - b);
  }
  return diff;
}

/** Bucket-wise maximum; a bucket present on either side is present in the result. */
export function maxUsage(a: TokenUsage, b: TokenUsage): TokenUsage {
  const result: TokenUsage = { inputTokens: 0, outputTokens: 0 };
  for (const bucket of BUCKETS) {
    if (a[bucket] === undefined && b[bucket] === undefined) continue;
    setBucket(result, bucket, Math.max(a[bucket] ?? 0, b[bucket] ?? 0));
  }
  return result;
}

function setBucket(usage: TokenUsage, bucket: Bucket, value: number): void {
  usage[bucket] = value;
}

/**
 * Keeps a run's token usage and reports it as `token_usage_updated` events whose data is the
 * step's own increment plus `cumulative`, the run's total so far. Summing the events' increments
 * gives the run's usage, whatever the provider reports:
 *
 * - per-step usage (Claude per assistant message, Amp per message): `addStep(usage)`;
 * - usage that includes earlier steps (Codex's thread-cumulative `turn.completed.usage`):
 *   `observeTotal(total)`, which emits the difference since the last total seen. On a resumed
 *   provider session, pass the total the previous run ended with as `baseline`, or the first
 *   step would count the whole history again.
 *
 * Steps that add nothing emit nothing.
 */
export class UsageTracker {
  readonly #sink: EventSink;
  #total: TokenUsage = { ...EMPTY_TOKEN_USAGE };
  #lastProviderTotal: TokenUsage | undefined;

  constructor(sink: EventSink, options: { baseline?: TokenUsage } = {}) {
    this.#sink = sink;
    this.#lastProviderTotal = options.baseline;
  }

  /** Adds one step's own usage. `extra` goes into the event's data (e.g. `{ messageId }`). */
  addStep(step: TokenUsage, extra: Record<string, unknown> = {}): void {
    if (isZeroUsage(step)) return;
    this.#total = addTokenUsage(this.#total, step);
    this.#sink.emit({
      type: "token_usage_updated",
      data: { ...extra, ...step, cumulative: { ...this.#total } },
    });
  }

  /**
   * Records a provider total that includes earlier steps and adds the part that is new. A total
   * below the previous one in any bucket means the provider started counting again: the whole
   * total is then this step. Returns the step's increment.
   */
  observeTotal(providerTotal: TokenUsage, extra: Record<string, unknown> = {}): TokenUsage {
    const previous = this.#lastProviderTotal;
    const step =
      previous === undefined ? providerTotal : (usageDifference(providerTotal, previous) ?? providerTotal);
    this.#lastProviderTotal = { ...providerTotal };
    this.addStep(step, extra);
    return step;
  }

  /** The run's usage so far: the sum of every increment reported. */
  get total(): TokenUsage {
    return { ...this.#total };
  }

  /** The last provider total passed to `observeTotal` (or the baseline); the next run's baseline. */
  get providerTotal(): TokenUsage | undefined {
    return this.#lastProviderTotal ? { ...this.#lastProviderTotal } : undefined;
  }
}

/**
 * A run's cost from a provider's cumulative cost (Claude's session-cumulative `total_cost_usd`):
 * `cumulative - previous`, where `previous` is the cumulative the provider session had reached
 * before this run (0 for a new session). If the cumulative went down, the provider restarted its
 * count, and all of it is this run's. Rounded to 1e-12 USD so float noise does not show.
 */
export function costFromCumulative(
  cumulativeUsd: number,
  previousCumulativeUsd: number,
): { costUsd: number; reset: boolean } {
  const cumulative = Number.isFinite(cumulativeUsd) && cumulativeUsd > 0 ? cumulativeUsd : 0;
  const previous =
    Number.isFinite(previousCumulativeUsd) && previousCumulativeUsd > 0 ? previousCumulativeUsd : 0;
  const reset = cumulative < previous;
  const cost = reset ? cumulative : cumulative - previous;
  return { costUsd: Math.round(cost * 1e12) / 1e12, reset };
}

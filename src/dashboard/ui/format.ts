import type { TokenUsage } from "../../core/token-usage.js";

const numberFormat = new Intl.NumberFormat();

export function tokens(usage: TokenUsage | undefined): string {
  if (!usage) return "–";
  return numberFormat.format(usage.inputTokens + usage.outputTokens);
}

export function cost(usd: number | null | undefined): string {
  if (usd === null || usd === undefined) return "–";
  return `$${usd.toFixed(usd < 1 ? 4 : 2)}`;
}

export function time(iso: string | undefined): string {
  if (!iso) return "–";
  return new Date(iso).toLocaleString();
}

export function duration(ms: number | undefined): string {
  if (ms === undefined) return "–";
  return ms < 1000 ? `${Math.round(ms)} ms` : `${(ms / 1000).toFixed(1)} s`;
}

/** JSON for display, cut so one tool output cannot swamp the page. */
export function json(value: unknown, limit = 2000): string {
  const text = typeof value === "string" ? value : JSON.stringify(value, null, 2);
  if (text === undefined) return "";
  return text.length > limit ? `${text.slice(0, limit)}… (${text.length - limit} more characters)` : text;
}

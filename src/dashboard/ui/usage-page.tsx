import { useEffect, useState } from "preact/hooks";
import type { AsmClient } from "../../client/index.js";
import type { UsageSummary, UsageTotals } from "../../ports/query-api.js";
import { type Bar, BarChart } from "./chart.js";
import { ErrorNote } from "./error-note.js";
import { cost, tokens } from "./format.js";

const DAYS = 14;
const DAY_MS = 86_400_000;

interface Day {
  /** YYYY-MM-DD (UTC). */
  date: string;
  usage: UsageSummary;
}

/**
 * Usage and cost: totals by provider and model, and per day over the last two weeks (one
 * summary per UTC day: the API has no time buckets).
 */
export function UsagePage({ client }: { client: AsmClient }) {
  const [total, setTotal] = useState<UsageSummary>();
  const [days, setDays] = useState<Day[]>();
  const [error, setError] = useState<unknown>();

  useEffect(() => {
    client.usage().then(setTotal, setError);
    const today = Math.floor(Date.now() / DAY_MS) * DAY_MS;
    const starts = Array.from({ length: DAYS }, (_, index) => today - (DAYS - 1 - index) * DAY_MS);
    Promise.all(
      starts.map(async (start) => ({
        date: new Date(start).toISOString().slice(0, 10),
        usage: await client.usage({
          since: new Date(start).toISOString(),
          until: new Date(start + DAY_MS - 1).toISOString(),
        }),
      })),
    ).then(setDays, setError);
  }, [client]);

  const bars = (groups: Record<string, UsageTotals>): Bar[] =>
    Object.entries(groups).map(([label, totals]) => ({
      label,
      value: totals.tokenUsage.inputTokens + totals.tokenUsage.outputTokens,
      detail: `${tokens(totals.tokenUsage)} tokens, ${cost(totals.costUsd)}, ${totals.runCount} runs`,
    }));

  return (
    <section aria-labelledby="usage-title">
      <h1 id="usage-title">Usage and cost</h1>
      <ErrorNote error={error} />
      {total ? (
        <p>
          {total.runCount} runs · {tokens(total.tokenUsage)} tokens · {cost(total.costUsd)}
          {total.unpricedRuns > 0 ? ` (${total.unpricedRuns} runs without a price)` : ""}
        </p>
      ) : null}
      {days ? (
        <>
          <BarChart
            title={`Cost per day (UTC), last ${DAYS} days`}
            bars={days.map((day) => ({
              label: day.date,
              value: day.usage.costUsd,
              detail: `${cost(day.usage.costUsd)}, ${day.usage.runCount} runs`,
            }))}
          />
          <BarChart
            title={`Tokens per day (UTC), last ${DAYS} days`}
            bars={days.map((day) => ({
              label: day.date,
              value: day.usage.tokenUsage.inputTokens + day.usage.tokenUsage.outputTokens,
              detail: `${tokens(day.usage.tokenUsage)} tokens`,
            }))}
          />
        </>
      ) : null}
      {total ? (
        <>
          <BarChart title="By provider" bars={bars(total.byProvider)} />
          <BarChart title="By model" bars={bars(total.byModel)} />
        </>
      ) : null}
    </section>
  );
}

export interface Bar {
  label: string;
  value: number;
  /** Spoken and shown as the bar's title, e.g. "1,200 tokens, $0.0300". */
  detail: string;
}

/**
 * A horizontal bar chart in plain SVG-free HTML: it reflows, follows the color scheme, and its
 * numbers stay readable text for screen readers (a list, not a picture).
 */
export function BarChart({ title, bars }: { title: string; bars: Bar[] }) {
  const max = Math.max(1, ...bars.map((bar) => bar.value));
  return (
    <figure class="chart">
      <figcaption>{title}</figcaption>
      {bars.length === 0 ? (
        <p>No data.</p>
      ) : (
        <ul>
          {bars.map((bar) => (
            <li key={bar.label}>
              <span class="bar-label">{bar.label}</span>
              <span class="bar-track" aria-hidden="true">
                <span class="bar" style={{ width: `${(bar.value / max) * 100}%` }} />
              </span>
              <span class="bar-value">{bar.detail}</span>
            </li>
          ))}
        </ul>
      )}
    </figure>
  );
}

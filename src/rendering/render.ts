import { AsmError } from "../core/errors.js";
import type { AsmEvent } from "../core/events.js";
import type { Renderer, Sink } from "./types.js";

/** The step of a sink's lifecycle that failed. */
export type SinkPhase = "init" | "write" | "flush" | "close";

/** A sink that failed: it was dropped from the rest of the run, the others went on. */
export interface SinkFailure {
  sink: string;
  phase: SinkPhase;
  error: AsmError;
}

export interface RenderOptions {
  renderer: Renderer;
  sinks: readonly Sink[];
  /**
   * Told once per failing sink, with the error (an `AsmError`, code `internal_error` unless the
   * sink threw one). Default: one line on stderr (`asm: sink jsonl failed (write): …`).
   */
  onSinkError?: (failure: SinkFailure) => void;
}

/** What `render` did. */
export interface RenderReport {
  /** Events rendered. */
  events: number;
  /** The sinks that failed, each once, in the order they failed. */
  failures: SinkFailure[];
}

/**
 * Renders `events` — a live run (`handle.events`), a follow stream, a stored page — with one
 * renderer to every sink: each sink's `init`, then per event the renderer's text to every sink's
 * `writeEvent`, the renderer's `finish` text to `write`, then `flush` and `close`. A sink that
 * throws is reported once (`onSinkError`) and dropped; the others and the iteration go on.
 * While the next event is awaited, a renderer with a `tickIntervalMs` redraws (its spinner) to
 * the sinks. If the iteration itself throws, the output is still finished, flushed and closed,
 * then the error is rethrown.
 */
export async function render(
  events: AsyncIterable<AsmEvent> | Iterable<AsmEvent>,
  options: RenderOptions,
): Promise<RenderReport> {
  const { renderer } = options;
  const report: RenderReport = { events: 0, failures: [] };
  const onSinkError = options.onSinkError ?? reportToStderr;
  const live = new Set<Sink>();

  const each = async (phase: SinkPhase, call: (sink: Sink) => void | Promise<void>): Promise<void> => {
    await Promise.all(
      [...live].map(async (sink) => {
        try {
          await call(sink);
        } catch (error) {
          live.delete(sink);
          const failure: SinkFailure = { sink: sink.name, phase, error: AsmError.from(error) };
          report.failures.push(failure);
          onSinkError(failure);
          // A sink that failed after init still owns what it opened.
          if (phase !== "init" && phase !== "close")
            await Promise.resolve(sink.close?.()).catch(() => undefined);
        }
      }),
    );
  };

  for (const sink of options.sinks) live.add(sink);
  await each("init", (sink) => sink.init?.());

  // Every write goes through this chain, queued when its text is rendered: a spinner frame can
  // never land before the text of an event rendered ahead of it.
  let writes: Promise<void> = Promise.resolve();
  const ticker =
    renderer.tickIntervalMs !== undefined && renderer.tick !== undefined
      ? setInterval(() => {
          const text = renderer.tick?.() ?? "";
          if (text !== "") writes = writes.then(() => each("write", (sink) => sink.write(text)));
        }, renderer.tickIntervalMs)
      : undefined;
  ticker?.unref();

  try {
    for await (const event of events) {
      report.events += 1;
      const text = renderer.render(event);
      writes = writes.then(() => each("write", (sink) => sink.writeEvent(event, text)));
      await writes;
    }
  } finally {
    if (ticker !== undefined) clearInterval(ticker);
    await writes;
    const text = renderer.finish();
    if (text !== "") await each("write", (sink) => sink.write(text));
    await each("flush", (sink) => sink.flush?.());
    await each("close", (sink) => sink.close?.());
  }
  return report;
}

function reportToStderr(failure: SinkFailure): void {
  process.stderr.write(
    `asm: sink ${failure.sink} failed (${failure.phase}): ${failure.error.message} [${failure.error.code}]\n`,
  );
}

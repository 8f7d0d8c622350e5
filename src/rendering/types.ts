import type { AsmEvent } from "../core/events.js";

/**
 * Turns events into text. One renderer feeds every sink of a `render` call; it keeps whatever
 * state it needs (an open text line, counts) between events.
 */
export interface Renderer {
  /** The text for one event; `""` when the event shows nothing. */
  render(event: AsmEvent): string;
  /** The text that ends the output (a dangling line closed, a summary); `""` for none. */
  finish(): string;
  /**
   * How often `tick` is called while events are awaited, in ms; undefined: never. A renderer
   * animating a terminal (the studio spinner) sets it.
   */
  readonly tickIntervalMs?: number;
  /** Text redrawing the current state (a spinner frame); `""` when nothing changes. */
  tick?(): string;
}

/**
 * Where rendered output goes. `render` calls `init` once, then `writeEvent` for each event (with
 * the renderer's text for it), `write` for text no event produced (spinner frames, the finish),
 * then `flush` and `close`. Any of them may be async; a sink that throws is reported and
 * dropped, the others go on.
 */
export interface Sink {
  /** Names the sink in a failure report (`file /tmp/run.log`, `jsonl`). */
  readonly name: string;
  init?(): void | Promise<void>;
  write(text: string): void | Promise<void>;
  writeEvent(event: AsmEvent, text: string): void | Promise<void>;
  flush?(): void | Promise<void>;
  close?(): void | Promise<void>;
}

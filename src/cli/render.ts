import type { AsmEvent } from "../core/events.js";
import type { Run } from "../core/run.js";
import type { CostSource } from "../ports/run-extension.js";
import { EventFeed } from "../rendering/event-feed.js";
import { render } from "../rendering/render.js";
import type { TextRendererName } from "../rendering/renderer-names.js";
import { CompactRenderer } from "../rendering/renderers/compact.js";
import { StudioRenderer } from "../rendering/renderers/studio.js";
import { VerboseRenderer } from "../rendering/renderers/verbose.js";
import { FileSink } from "../rendering/sinks/file.js";
import { JsonlSink } from "../rendering/sinks/jsonl.js";
import { TtySink } from "../rendering/sinks/tty.js";
import { neutralise } from "../rendering/terminal.js";
import type { Renderer, Sink } from "../rendering/types.js";
import { paint, type Style, styleFor } from "./output.js";

export interface LiveRenderOptions {
  /** `--render`. Default `studio`. */
  render?: TextRendererName;
  /** `--json`: stdout takes JSON events, so no rendered text goes there; the files still get theirs. */
  json: boolean;
  /** `--log-file`: the rendered text, plain (no colour, no redraws), in an owner-only file. */
  logFile?: string;
  /** `--jsonl-file`: every event as stored, one JSON per line, in an owner-only file. */
  jsonlFile?: string;
}

/**
 * What `asm run` and `asm events` show, through the library's rendering pipeline: the chosen
 * renderer to stdout (a terminal gets the studio's spinner and redrawn lines, anything else
 * final lines), and to the `--log-file` and `--jsonl-file` sinks. Studio and verbose lines carry
 * the stored sequence of their event, the cursor `asm events --after` takes. A file that cannot
 * be written is reported on stderr once; the run goes on.
 */
export class LiveRender {
  private readonly feed = new EventFeed();
  private readonly done: Promise<unknown>;

  constructor(options: LiveRenderOptions) {
    const terminal = !options.json && process.stdout.isTTY === true;
    const color = !options.json && styleFor(process.stdout).color;
    const sinks: Sink[] = [];
    if (!options.json) sinks.push(new TtySink({ stream: process.stdout }));
    if (options.logFile) sinks.push(new FileSink({ path: options.logFile }));
    if (options.jsonlFile) sinks.push(new JsonlSink({ path: options.jsonlFile }));
    this.done = render(this.feed, {
      renderer: createRenderer(options.render ?? "studio", color, terminal),
      sinks,
      onSinkError: ({ sink, error }) => {
        // A closed stdout is the reader saying "enough": the interruption handles it, quietly.
        if (sink !== "tty")
          process.stderr.write(`asm: ${sink}: ${neutralise(error.message)} [${error.code}]\n`);
      },
    });
  }

  push(event: AsmEvent): void {
    this.feed.push(event);
  }

  /** Ends the output (a dangling line, a summary) once every event pushed is written. */
  async finish(): Promise<void> {
    this.feed.end();
    await this.done;
  }
}

function createRenderer(name: TextRendererName, color: boolean, tty: boolean): Renderer {
  switch (name) {
    case "compact":
      return new CompactRenderer({ color });
    case "verbose":
      return new VerboseRenderer({ color });
    case "studio":
      return new StudioRenderer({ color, tty, sequence: true, indent: 0 });
  }
}

const COST_SOURCES: Readonly<Record<CostSource, string>> = {
  provider: "reported by the provider",
  priced: "priced from token usage",
  unknown: "unknown",
};

/**
 * One line on what a run cost, where the figure came from and any warning, from what the cost
 * extension records on the run (`costUsd`, `metadata.costSource`, `metadata.costWarning`):
 * `cost $0.0123 · reported by the provider`, `cost unknown · warning: no price for model "x"…`.
 * `undefined` for a run nobody priced, and for one that used no tokens and has no warning (a
 * shell command): nothing was spent, and there is nothing to say.
 */
export function costLine(run: Run, style: Style): string | undefined {
  const source = run.metadata.costSource;
  if (typeof source !== "string" || !(source in COST_SOURCES)) return undefined;
  const warning = run.metadata.costWarning;
  const { inputTokens, outputTokens } = run.tokenUsage;
  if (warning === undefined && run.costUsd === 0 && inputTokens + outputTokens === 0) return undefined;
  const amount = run.costUsd === null || run.costUsd === undefined ? "" : `$${run.costUsd.toFixed(4)} · `;
  const figure = `cost ${amount}${COST_SOURCES[source as CostSource]}`;
  return typeof warning === "string"
    ? `${paint(style, "gray", figure)} · ${paint(style, "yellow", `warning: ${neutralise(warning)}`)}`
    : paint(style, "gray", figure);
}

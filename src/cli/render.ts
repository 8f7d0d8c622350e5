import type { AsmEvent } from "../core/events.js";
import type { Run } from "../core/run.js";
import type { CostSource } from "../ports/run-extension.js";
import { type Color, neutralise, paint, type Style } from "./output.js";

const PREVIEW_CHARS = 200;

/**
 * Renders events as compact human lines, each line starting with the stored sequence of the
 * event that began it (what `asm events --after` takes). Streamed text is written inline as it
 * arrives, each line it starts numbered with its event's sequence; a complete message that
 * repeats text already streamed is not printed twice, nor is an empty one. Everything from the
 * provider is written through `neutralise`.
 */
export class EventRenderer {
  private midLine = false;
  private streamedSinceMessage = false;

  constructor(
    private readonly out: NodeJS.WritableStream,
    private readonly style: Style,
  ) {}

  render(event: AsmEvent): void {
    if (event.type === "message_streamed") {
      this.stream(event.sequence, neutralise(event.data.delta), event.data.stream === "stderr");
      this.streamedSinceMessage = true;
      return;
    }
    const line = this.describe(event);
    if (line === undefined) return;
    if (this.midLine) this.out.write("\n");
    this.midLine = false;
    this.out.write(`${this.number(event.sequence)}${line}\n`);
  }

  private stream(sequence: number, text: string, stderr: boolean): void {
    let written = "";
    text.split("\n").forEach((line, index) => {
      if (index > 0) {
        written += "\n";
        this.midLine = false;
      }
      if (line === "") return;
      if (!this.midLine) written += this.number(sequence);
      written += stderr ? paint(this.style, "yellow", line) : line;
      this.midLine = true;
    });
    this.out.write(written);
  }

  private number(sequence: number): string {
    return `${paint(this.style, "gray", `#${sequence}`)} `;
  }

  /** Ends a dangling streamed line. */
  finish(): void {
    if (this.midLine) this.out.write("\n");
    this.midLine = false;
  }

  private describe(event: AsmEvent): string | undefined {
    const s = this.style;
    const mark = (color: Color, symbol: string, text: string) =>
      `${paint(s, color, symbol)} ${neutralise(text)}`;
    const note = (text: string) => paint(s, "gray", neutralise(text));
    switch (event.type) {
      case "session_created":
        return mark(
          "blue",
          "●",
          `session ${event.sessionId} created${event.data.provider ? ` (${event.data.provider})` : ""}`,
        );
      case "session_started":
        return mark("blue", "●", "session started");
      case "session_paused":
        return mark("blue", "●", `session paused${event.data.reason ? `: ${event.data.reason}` : ""}`);
      case "session_resumed":
        return mark("blue", "●", "session resumed");
      case "session_completed":
        return mark("green", "●", "session completed");
      case "session_failed":
        return mark("red", "●", `session failed [${event.data.errorCode}] ${event.data.errorMessage}`);
      case "session_cancelled":
        return mark("yellow", "●", `session cancelled${event.data.reason ? `: ${event.data.reason}` : ""}`);
      case "run_started":
        return mark(
          "cyan",
          "▶",
          `run ${event.runId ?? ""} started${event.data.model ? ` · ${event.data.model}` : ""}`,
        );
      case "run_completed": {
        const { stopReason, durationMs, tokenUsage, costUsd } = event.data;
        const tokens =
          tokenUsage.inputTokens + tokenUsage.outputTokens > 0
            ? ` · ${tokenUsage.inputTokens} in / ${tokenUsage.outputTokens} out tokens`
            : "";
        const cost = typeof costUsd === "number" && costUsd > 0 ? ` · $${costUsd.toFixed(4)}` : "";
        return mark("green", "✓", `run completed · ${stopReason} · ${durationMs} ms${tokens}${cost}`);
      }
      case "run_failed":
        return mark("red", "✗", `run failed [${event.data.errorCode}] ${event.data.errorMessage}`);
      case "run_cancelled":
        return mark("yellow", "■", `run cancelled${event.data.reason ? `: ${event.data.reason}` : ""}`);
      case "run_timeout":
        return mark("yellow", "⏱", `run timed out after ${event.data.timeoutMs} ms`);
      case "message_streamed":
        return undefined; // written inline by render()
      case "message_sent":
        return mark("magenta", "›", preview(event.data.content));
      case "message_received": {
        const repeated = this.streamedSinceMessage;
        this.streamedSinceMessage = false;
        const content = preview(event.data.content);
        return repeated || content === "" ? undefined : mark("magenta", "‹", content);
      }
      case "tool_call_started":
        return mark("cyan", "⚙", `${event.data.toolName} ${preview(JSON.stringify(event.data.toolInput))}`);
      case "tool_call_completed":
        return mark(
          "green",
          "⚙",
          `${event.data.toolName} done ${preview(JSON.stringify(event.data.toolOutput ?? null))}`,
        );
      case "tool_call_failed":
        return mark(
          "red",
          "⚙",
          `${event.data.toolName} failed${event.data.errorMessage ? `: ${event.data.errorMessage}` : ""}`,
        );
      case "token_usage_updated":
        return note(`tokens +${event.data.inputTokens} in / +${event.data.outputTokens} out`);
      case "turn_completed":
        return note(`turn ${event.data.turn} completed`);
      case "error_occurred":
        return mark("red", "!", `[${event.data.errorCode}] ${event.data.errorMessage}`);
      case "error_recovered":
        return mark("green", "!", `recovered from ${event.data.errorCode}`);
      case "workspace_snapshot_taken":
        return note(`snapshot ${event.data.label} ${event.data.backend}:${event.data.ref}`);
      case "workspace_diff_computed":
        return note(
          `diff ${event.data.filesChanged} files +${event.data.insertions} -${event.data.deletions}`,
        );
      case "policy_violation":
        return mark("red", "⛔", `policy ${event.data.policy}: ${event.data.kind} → ${event.data.action}`);
      case "tool_approval_requested":
        return mark(
          "yellow",
          "?",
          `approval requested for ${event.data.toolName} (${event.data.policyName})`,
        );
      case "tool_approval_granted":
        return mark("green", "?", `approval granted for ${event.data.toolName}`);
      case "tool_approval_denied":
        return mark("red", "?", `approval denied for ${event.data.toolName}`);
      default:
        return assertNever(event);
    }
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

function preview(text: string): string {
  const flat = text.replaceAll(/\s+/g, " ").trim();
  return flat.length > PREVIEW_CHARS ? `${flat.slice(0, PREVIEW_CHARS - 1)}…` : flat;
}

function assertNever(value: never): never {
  throw new Error(`unhandled event ${JSON.stringify(value)}`);
}

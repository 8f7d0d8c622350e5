import type { AsmEvent } from "../../core/events.js";
import { type Color, colorByDefault, neutralise, paint, preview } from "../terminal.js";
import type { Renderer } from "../types.js";
import { outputText } from "./tool-summary.js";

const PREVIEW_CHARS = 120;

export interface CompactRendererOptions {
  /** ANSI colours. Default: when stdout is a terminal and `NO_COLOR` is not set. */
  color?: boolean;
}

/**
 * Dense tokens on as few lines as possible: `r+ model` run started, `>> text` streamed text
 * (inline, its line closed when something else comes), `t+Name` / `t-Name` tool started /
 * ended (with `tr:` its output preview), `tk:in/out[ $cost]` usage, `msg preview` a complete
 * message, `r-[:reason][ $cost]` run completed (`end_turn` → `end`, `tool_use` → `tool`),
 * `! message` a failure, `! cancelled`, `! timeout`, `?type` any other event; at the end a
 * summary line `N events, M tools`. Provider text is neutralised.
 */
export class CompactRenderer implements Renderer {
  private readonly color: boolean;
  private streaming = false;
  private lineOpen = false;
  private eventCount = 0;
  private toolCount = 0;

  constructor(options: CompactRendererOptions = {}) {
    this.color = options.color ?? colorByDefault();
  }

  render(event: AsmEvent): string {
    this.eventCount += 1;
    if (event.type === "message_streamed") {
      const text = neutralise(event.data.delta);
      const prefix = this.streaming ? "" : `${this.lineOpen ? " " : ""}${this.paint("magenta", ">>")} `;
      this.streaming = true;
      // Text that ended its line leaves the next token at the start of a fresh one.
      if (text !== "") this.lineOpen = !text.endsWith("\n");
      else if (prefix !== "") this.lineOpen = true;
      return prefix + text;
    }
    const token = this.token(event);
    const closing = this.endStream();
    const text = `${closing}${this.lineOpen ? " " : ""}${token}`;
    this.lineOpen = true;
    return text;
  }

  finish(): string {
    const closing = this.lineOpen ? "\n" : "";
    this.lineOpen = false;
    this.streaming = false;
    return `${closing}${this.paint("dim", `${this.eventCount} events, ${this.toolCount} tools`)}\n`;
  }

  private token(event: Exclude<AsmEvent, { type: "message_streamed" }>): string {
    const dim = (text: string) => this.paint("dim", text);
    switch (event.type) {
      case "run_started": {
        const model = shortModel(event.data.model);
        return `${this.paint("blue", "r+")}${model === "" ? "" : ` ${this.paint("magenta", neutralise(model))}`}`;
      }
      case "tool_call_started":
        this.toolCount += 1;
        return this.paint("green", `t+${neutralise(event.data.toolName)}`);
      case "tool_call_completed": {
        const output = preview(neutralise(outputText(event.data.toolOutput)), PREVIEW_CHARS);
        const end = this.paint("green", `t-${neutralise(event.data.toolName)}`);
        return output === "" ? end : `${end} ${this.paint("green", "tr:")}${dim(output)}`;
      }
      case "tool_call_failed": {
        const end = this.paint("green", `t-${neutralise(event.data.toolName)}`);
        return `${end} ${this.paint("red", "!")} ${dim(preview(neutralise(event.data.errorMessage ?? "failed"), PREVIEW_CHARS))}`;
      }
      case "token_usage_updated":
        return dim(`tk:${event.data.inputTokens}/${event.data.outputTokens}${costLabel(event.data.costUsd)}`);
      case "message_received":
        return `${this.paint("blue", "msg")} ${dim(preview(neutralise(event.data.content), PREVIEW_CHARS))}`;
      case "run_completed": {
        const reason = shortReason(event.data.stopReason);
        return this.paint("blue", `r-${reason === "" ? "" : `:${reason}`}${costLabel(event.data.costUsd)}`);
      }
      case "run_failed":
      case "error_occurred":
        return `${this.paint("red", "!")} ${dim(preview(neutralise(event.data.errorMessage || "unknown error"), PREVIEW_CHARS))}`;
      case "run_cancelled":
        return `${this.paint("red", "!")} ${dim("cancelled")}`;
      case "run_timeout":
        return `${this.paint("red", "!")} ${dim("timeout")}`;
      default:
        return dim(`?${event.type}`);
    }
  }

  private endStream(): string {
    if (!this.streaming) return "";
    this.streaming = false;
    const closing = this.lineOpen ? "\n" : "";
    this.lineOpen = false;
    return closing;
  }

  private paint(color: Color, text: string): string {
    return paint(this.color, color, text);
  }
}

/** `claude-sonnet-4-5-20250929` → `sonnet-4-5`: the model's first three parts, vendor prefix dropped. */
export function shortModel(model: string | undefined): string {
  if (model === undefined) return "";
  return model
    .replace(/^claude-/, "")
    .replace(/^anthropic\./, "")
    .split("-")
    .filter((part) => part !== "")
    .slice(0, 3)
    .join("-");
}

/** `end_turn` → `end`, `tool_use` → `tool`, others lowercased. */
export function shortReason(reason: string | undefined): string {
  if (reason === undefined) return "";
  const lower = reason.toLowerCase();
  return lower === "tool_use" ? "tool" : lower === "end_turn" ? "end" : lower;
}

/** ` $0.0123` (rounded to 4 places), `""` without a cost or for nothing spent. */
function costLabel(cost: unknown): string {
  return typeof cost === "number" && cost > 0 ? ` $${Number(cost.toFixed(4))}` : "";
}

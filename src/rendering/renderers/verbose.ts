import type { AsmEvent } from "../../core/events.js";
import { type Color, colorByDefault, fitWidth, neutralise, paint } from "../terminal.js";
import type { Renderer } from "../types.js";
import { outputText } from "./tool-summary.js";

const PREVIEW_CHARS = 120;
const RESULT_CHARS = 2000;

export interface VerboseRendererOptions {
  /** ANSI colours. Default: when stdout is a terminal and `NO_COLOR` is not set. */
  color?: boolean;
}

/**
 * One line per event, `[type] key=value …` ending with `seq=N` (the cursor `--after` takes);
 * streamed text is written inline as it comes, and the line it leaves open is closed before
 * the next bracketed line. Values are neutralised and kept on their line (a newline is written
 * `\n`); inputs are cut at 120 characters, outputs and messages at 2000. At the end a summary
 * `--- N events, M tools ---`.
 */
export class VerboseRenderer implements Renderer {
  private readonly color: boolean;
  private inText = false;
  private eventCount = 0;
  private toolCount = 0;

  constructor(options: VerboseRendererOptions = {}) {
    this.color = options.color ?? colorByDefault();
  }

  render(event: AsmEvent): string {
    this.eventCount += 1;
    if (event.type === "message_streamed") {
      const text = neutralise(event.data.delta);
      if (text !== "") this.inText = !text.endsWith("\n");
      return text;
    }
    const [color, fields] = this.describe(event);
    const tag =
      event.type === "token_usage_updated"
        ? "token_usage"
        : event.type === "error_occurred"
          ? "error"
          : event.type;
    const pairs = [...fields, ["seq", String(event.sequence)] as const]
      .map(([key, value]) => `${key}=${value}`)
      .join(" ");
    const breakLine = this.inText ? "\n" : "";
    this.inText = false;
    return `${breakLine}${this.paint(color, `[${tag}]`)} ${pairs}\n`;
  }

  finish(): string {
    const closing = this.inText ? "\n" : "";
    this.inText = false;
    return `${closing}${this.paint("dim", `--- ${this.eventCount} events, ${this.toolCount} tools ---`)}\n`;
  }

  private describe(event: Exclude<AsmEvent, { type: "message_streamed" }>): [Color, [string, string][]] {
    const d = event.data;
    switch (event.type) {
      case "run_started":
        return [
          "blue",
          [["model", value(d.model ?? "unknown")], ["session_id", event.sessionId], ...run(event)],
        ];
      case "tool_call_started": {
        this.toolCount += 1;
        const input =
          Object.keys(event.data.toolInput).length === 0
            ? []
            : [["input", value(event.data.toolInput)] as [string, string]];
        return [
          "green",
          [["name", value(event.data.toolName)], ["id", value(event.data.toolCallId)], ...input],
        ];
      }
      case "tool_call_completed": {
        const output = outputText(event.data.toolOutput);
        return [
          "green",
          [
            ["name", value(event.data.toolName)],
            ...(output === "" ? [] : [["output", value(output, RESULT_CHARS)] as [string, string]]),
          ],
        ];
      }
      case "tool_call_failed":
        return [
          "red",
          [
            ["name", value(event.data.toolName)],
            ["error_message", value(event.data.errorMessage ?? "failed", RESULT_CHARS)],
          ],
        ];
      case "token_usage_updated":
        return [
          "dim",
          [
            ["input", String(event.data.inputTokens)],
            ["output", String(event.data.outputTokens)],
            ...cost(event.data.costUsd),
          ],
        ];
      case "message_received":
      case "message_sent":
        return [
          "blue",
          [
            ["role", event.data.role],
            ["content", value(event.data.content, RESULT_CHARS)],
          ],
        ];
      case "run_completed":
        return [
          "blue",
          [
            ["stop_reason", value(event.data.stopReason)],
            ["tokens", `${event.data.tokenUsage.inputTokens}/${event.data.tokenUsage.outputTokens}`],
            ["duration_ms", String(event.data.durationMs)],
            ...cost(event.data.costUsd),
          ],
        ];
      case "run_failed":
      case "error_occurred":
      case "session_failed":
        return [
          "red",
          [
            ["error_code", value(event.data.errorCode)],
            ["error_message", value(event.data.errorMessage || "unknown error", RESULT_CHARS)],
          ],
        ];
      case "run_cancelled":
      case "session_cancelled":
      case "run_timeout":
      case "policy_violation":
      case "tool_approval_denied":
        return ["red", generic(event.data)];
      default:
        return ["dim", generic(event.data)];
    }
  }

  private paint(color: Color, text: string): string {
    return paint(this.color, color, text);
  }
}

function run(event: AsmEvent): [string, string][] {
  return event.runId === undefined ? [] : [["run_id", event.runId]];
}

function cost(costUsd: unknown): [string, string][] {
  return typeof costUsd === "number" ? [["cost", `$${Number(costUsd.toFixed(6))}`]] : [];
}

/** Every field of `data`, keys in snake_case (`toolName` → `tool_name`), in their order. */
function generic(data: Record<string, unknown>): [string, string][] {
  return Object.entries(data)
    .filter(([, field]) => field !== undefined)
    .map(([key, field]) => [key.replace(/[A-Z]/g, (letter) => `_${letter.toLowerCase()}`), value(field)]);
}

/** A value on one line: strings as they are, anything else as JSON; neutralised, `\n` escaped, cut. */
function value(field: unknown, limit = PREVIEW_CHARS): string {
  const text = typeof field === "string" ? field : JSON.stringify(field);
  return fitWidth(neutralise(text ?? "").replaceAll("\n", "\\n"), limit);
}

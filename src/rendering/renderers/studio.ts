import { type AsmEvent, isTerminalRunEventType } from "../../core/events.js";
import {
  CLEAR_LINE,
  type Color,
  colorByDefault,
  fitWidth,
  neutralise,
  paint,
  preview,
  SPINNER_FRAMES,
  SYMBOLS,
} from "../terminal.js";
import type { Renderer } from "../types.js";
import {
  isCommandTool,
  outputLines,
  previewLines,
  runningText,
  summaryText,
  type ToolCallInfo,
} from "./tool-summary.js";

/** How much of a tool's output the studio renderer shows under its summary line. */
export type ToolOutputMode = "summary" | "preview" | "full";

const PREVIEW_LINES = 3;
const MESSAGE_PREVIEW_CHARS = 120;
const SPINNER_INTERVAL_MS = 120;

export interface StudioRendererOptions {
  /** ANSI colours. Default: when stdout is a terminal and `NO_COLOR` is not set. */
  color?: boolean;
  /** `summary`: one line per tool call; `preview`: and its last 3 output lines; `full`: and all of them. Default `summary`. */
  toolOutput?: ToolOutputMode;
  /** Spaces before every line. Default 2. */
  indent?: number;
  /**
   * Whether the output is a terminal: then a running tool is one line redrawn in place (cursor
   * control, a spinner); off a terminal every line is final and no cursor control is written.
   * Default: whether `process.stdout` is a TTY.
   */
  tty?: boolean;
  /** Animate the running symbol on a terminal (◐ ◓ ◑ ◒); false: a static ● instead. Default true. */
  showSpinner?: boolean;
  /**
   * Status lines are cut to this width (with `…`) so they never wrap, which a line redrawn in
   * place needs. Default: `process.stdout.columns` on a terminal (read at each line, so a
   * resized terminal is followed), no limit off one.
   */
  columns?: number;
  /** Start every line with the stored sequence of the event that began it (`#12`, what `--after` takes). Default false. */
  sequence?: boolean;
}

interface RunningTool {
  info: ToolCallInfo;
  sequence: number;
  startedAt: number;
}

/**
 * The CLI's renderer, for people: ● information, ◐ a tool running, ✓ done, ✗ failed; streamed
 * text in indented blocks; one summary line per tool call (`Ran: npm test (exit 0, 156 chars,
 * 3.2s)`, `Read src/a.ts (72 lines)`…) with, as asked, a preview or all of its output; a closing
 * line per run with its stop reason, duration, tokens, cost and tool count. Every event type has
 * its line (or, for usage updates, none). On a terminal the running tools are one line redrawn
 * in place with a turning spinner; off one nothing is redrawn. Provider text is neutralised.
 */
export class StudioRenderer implements Renderer {
  readonly tickIntervalMs?: number;
  private readonly color: boolean;
  private readonly toolOutput: ToolOutputMode;
  private readonly indent: string;
  private readonly tty: boolean;
  private readonly spinner: boolean;
  private readonly columns: number | undefined;
  private readonly sequence: boolean;

  private readonly running = new Map<string, RunningTool>();
  private written = false;
  /** Inside a text block; `midLine` when its last line is not ended. */
  private inText = false;
  private midLine = false;
  private streamedSinceMessage = false;
  /** The running tools' line as it is on screen, unended (terminal only); `""` when none is. */
  private transientText = "";
  private frame = 0;
  private toolsThisRun = 0;

  constructor(options: StudioRendererOptions = {}) {
    this.color = options.color ?? colorByDefault();
    this.toolOutput = options.toolOutput ?? "summary";
    this.indent = " ".repeat(options.indent ?? 2);
    this.tty = options.tty ?? process.stdout.isTTY === true;
    this.spinner = options.showSpinner ?? true;
    this.columns = options.columns;
    this.sequence = options.sequence ?? false;
    if (this.tty && this.spinner) this.tickIntervalMs = SPINNER_INTERVAL_MS;
  }

  render(event: AsmEvent): string {
    if (event.type === "message_streamed") {
      this.streamedSinceMessage = true;
      return this.text(event.sequence, neutralise(event.data.delta));
    }
    if (event.type === "message_received") {
      const streamed = this.streamedSinceMessage;
      this.streamedSinceMessage = false;
      if (streamed || event.data.content.trim() === "") return "";
      return `${this.text(event.sequence, neutralise(event.data.content))}${this.closeText()}`;
    }
    return this.output(this.closeText() + this.unfinishedTools(event) + this.lines(event));
  }

  /** At a run's end, a line for each of its tools that never reported an end (the run was cancelled mid-call). */
  private unfinishedTools(event: AsmEvent): string {
    if (!isTerminalRunEventType(event.type)) return "";
    const lines = [...this.running.values()].map(({ info, sequence }) =>
      this.statusLine(sequence, "failure", neutralise(`${info.name} did not finish`)),
    );
    this.running.clear();
    return lines.join("");
  }

  finish(): string {
    const closing = this.closeText();
    const clear = this.transientText === "" ? "" : CLEAR_LINE;
    this.transientText = "";
    return clear + closing;
  }

  tick(): string {
    if (this.transientText === "") return "";
    this.frame = (this.frame + 1) % SPINNER_FRAMES.length;
    this.transientText = this.transientLine();
    return CLEAR_LINE + this.transientText;
  }

  /** The lines an event adds: status lines, or for a tool's end its summary and output. */
  private lines(event: Exclude<AsmEvent, { type: "message_streamed" | "message_received" }>): string {
    const { sequence } = event;
    const line = (symbol: "info" | "running" | "success" | "failure", text: string, color?: Color) =>
      this.statusLine(sequence, symbol, neutralise(text), color);
    switch (event.type) {
      case "session_created":
        return line(
          "info",
          `session ${event.sessionId} created${event.data.provider ? ` (${event.data.provider})` : ""}`,
        );
      case "session_started":
        return line("info", "session started");
      case "session_paused":
        return line("info", `session paused${reason(event.data.reason)}`);
      case "session_resumed":
        return line("info", "session resumed");
      case "session_completed":
        return line("info", "session completed");
      case "session_failed":
        return line("failure", `session failed [${event.data.errorCode}] ${event.data.errorMessage}`);
      case "session_cancelled":
        return line("failure", `session cancelled${reason(event.data.reason)}`);
      case "run_started":
        this.toolsThisRun = 0;
        return line(
          "info",
          `run ${event.runId ?? ""} started${event.data.model ? ` · ${event.data.model}` : ""}`,
        );
      case "run_completed": {
        const { stopReason, durationMs, tokenUsage, costUsd } = event.data;
        const parts = [`run completed`, stopReason, `${durationMs} ms`];
        if (tokenUsage.inputTokens + tokenUsage.outputTokens > 0) {
          parts.push(`${tokenUsage.inputTokens} in / ${tokenUsage.outputTokens} out tokens`);
        }
        if (typeof costUsd === "number" && costUsd > 0) parts.push(`$${costUsd.toFixed(4)}`);
        if (this.toolsThisRun > 0)
          parts.push(`${this.toolsThisRun} tool${this.toolsThisRun === 1 ? "" : "s"}`);
        return line("success", parts.join(" · "));
      }
      case "run_failed":
        return line("failure", `run failed [${event.data.errorCode}] ${event.data.errorMessage}`);
      case "run_cancelled":
        return line("failure", `run cancelled${reason(event.data.reason)}`);
      case "run_timeout":
        return line("failure", `run timed out after ${event.data.timeoutMs} ms`);
      case "message_sent":
        return line(
          "info",
          `${event.data.role === "user" ? "prompt" : event.data.role}: ${preview(event.data.content, MESSAGE_PREVIEW_CHARS)}`,
          "gray",
        );
      case "tool_call_started": {
        const info: ToolCallInfo = { name: event.data.toolName, input: event.data.toolInput, failed: false };
        this.running.set(event.data.toolCallId, { info, sequence, startedAt: Date.parse(event.timestamp) });
        this.toolsThisRun += 1;
        // On a terminal the running line is drawn (and redrawn) by `output`; off one it is final.
        return this.tty ? "" : this.statusLine(sequence, "running", neutralise(runningText(info)));
      }
      case "tool_call_completed":
      case "tool_call_failed":
        return this.toolEnded(event);
      case "token_usage_updated":
        return "";
      case "turn_completed":
        return line("info", `turn ${event.data.turn} completed`, "gray");
      case "error_occurred":
        return event.data.fatal === false
          ? line("info", `[${event.data.errorCode}] ${event.data.errorMessage}`, "yellow")
          : line("failure", `[${event.data.errorCode}] ${event.data.errorMessage}`);
      case "error_recovered":
        return line("success", `recovered from ${event.data.errorCode}`);
      case "workspace_snapshot_taken":
        return line("info", `snapshot ${event.data.label} ${event.data.backend}:${event.data.ref}`, "gray");
      case "workspace_diff_computed":
        return line(
          "info",
          `diff ${event.data.filesChanged} files +${event.data.insertions} -${event.data.deletions}`,
          "gray",
        );
      case "policy_violation":
        return line("failure", `policy ${event.data.policy}: ${event.data.kind} → ${event.data.action}`);
      case "tool_approval_requested":
        return line("running", `approval requested for ${event.data.toolName} (${event.data.policyName})`);
      case "tool_approval_granted":
        return line("success", `approval granted for ${event.data.toolName}`);
      case "tool_approval_denied":
        return line("failure", `approval denied for ${event.data.toolName}${reason(event.data.reason)}`);
      default:
        return assertNever(event);
    }
  }

  private toolEnded(event: Extract<AsmEvent, { type: "tool_call_completed" | "tool_call_failed" }>): string {
    const started = this.running.get(event.data.toolCallId);
    this.running.delete(event.data.toolCallId);
    const failed = event.type === "tool_call_failed";
    const durationMs = started === undefined ? undefined : Date.parse(event.timestamp) - started.startedAt;
    const info: ToolCallInfo = {
      name: event.data.toolName,
      input: started?.info.input ?? {},
      output: event.data.toolOutput,
      failed,
      ...(durationMs !== undefined && Number.isFinite(durationMs) ? { durationMs } : {}),
    };
    const message =
      failed && !isCommandTool(info.name)
        ? `${info.name} failed${reason(event.type === "tool_call_failed" ? event.data.errorMessage : undefined)}`
        : summaryText(info);
    const summary = this.statusLine(event.sequence, failed ? "failure" : "success", neutralise(message));
    const shown =
      this.toolOutput === "summary"
        ? []
        : this.toolOutput === "preview"
          ? previewLines(info.output, PREVIEW_LINES)
          : outputLines(info.output);
    const prefix = this.toolOutput === "preview" ? "│" : "┊";
    const detail = shown
      .map(
        (text) =>
          `${this.indent}  ${this.number(event.sequence)}${this.paint("dim", prefix)} ${this.paint("dim", neutralise(text))}\n`,
      )
      .join("");
    return summary + detail;
  }

  /** Streamed text: a block, each line indented (and numbered), opened with a blank line. */
  private text(sequence: number, text: string): string {
    if (text === "") return "";
    let out = "";
    if (!this.inText) {
      out += this.written ? "\n" : "";
      this.inText = true;
      this.midLine = false;
    }
    text.split("\n").forEach((piece, index) => {
      if (index > 0) {
        out += "\n";
        this.midLine = false;
      }
      if (piece === "") return;
      if (!this.midLine) out += `${this.indent}${this.number(sequence)}`;
      out += piece;
      this.midLine = true;
    });
    return this.output(out);
  }

  /** Ends a text block: its last line, then a blank line. */
  private closeText(): string {
    if (!this.inText) return "";
    this.inText = false;
    const closing = `${this.midLine ? "\n" : ""}\n`;
    this.midLine = false;
    return closing;
  }

  /**
   * What goes out, on a terminal wrapped so the running tools' line stays last: erased before
   * anything is written (or when it changes), drawn again after, unless a text line is left open.
   */
  private output(text: string): string {
    if (text !== "") this.written = true;
    if (!this.tty) return text;
    const wanted = this.running.size > 0 && !this.inText ? this.transientLine() : "";
    if (text === "" && wanted === this.transientText) return "";
    const out = `${this.transientText === "" ? "" : CLEAR_LINE}${text}${wanted}`;
    this.transientText = wanted;
    if (wanted !== "") this.written = true;
    return out;
  }

  /** The running tools' line (no newline): the latest one started, and how many more run. */
  private transientLine(): string {
    const tools = [...this.running.values()];
    const latest = tools[tools.length - 1];
    if (latest === undefined) return "";
    const more = tools.length > 1 ? ` (+${tools.length - 1} more)` : "";
    const symbol = this.spinner ? (SPINNER_FRAMES[this.frame] ?? SYMBOLS.running) : SYMBOLS.info;
    const body = fitWidth(`${neutralise(runningText(latest.info))}${more}`, this.width(latest.sequence));
    return `${this.indent}${this.number(latest.sequence)}${this.paint("cyan", symbol)} ${body}`;
  }

  private statusLine(sequence: number, symbol: keyof typeof SYMBOLS, text: string, color?: Color): string {
    const symbolColor: Color = { info: "blue", running: "cyan", success: "green", failure: "red" }[
      symbol
    ] as Color;
    const shownSymbol = symbol === "running" && !this.spinner ? SYMBOLS.info : SYMBOLS[symbol];
    const body = fitWidth(text, this.width(sequence));
    return `${this.indent}${this.number(sequence)}${this.paint(symbolColor, shownSymbol)} ${color ? this.paint(color, body) : body}\n`;
  }

  /** Room left for a status line's text: the columns less the indent, the number and the symbol. */
  private width(sequence: number): number | undefined {
    const columns = this.columns ?? (this.tty ? process.stdout.columns : undefined);
    if (columns === undefined) return undefined;
    const number = this.sequence ? `#${sequence} `.length : 0;
    // One column spare: writing the last column leaves some terminals' cursor in limbo.
    return Math.max(8, columns - this.indent.length - number - 2 - 1);
  }

  private number(sequence: number): string {
    return this.sequence ? `${this.paint("gray", `#${sequence}`)} ` : "";
  }

  private paint(color: Color, text: string): string {
    return paint(this.color, color, text);
  }
}

function reason(text: string | undefined): string {
  return text ? `: ${text}` : "";
}

function assertNever(value: never): never {
  throw new Error(`unhandled event ${JSON.stringify(value)}`);
}

import type { FileHandle } from "node:fs/promises";
import { AsmError } from "../../core/errors.js";
import type { AsmEvent, EventType } from "../../core/events.js";
import { shortModel, shortReason } from "../renderers/compact.js";
import { outputText } from "../renderers/tool-summary.js";
import { fitWidth } from "../terminal.js";
import type { Sink } from "../types.js";
import { openOwnerOnlyForWriting } from "./owner-only-file.js";

/** `full`: each event as stored; `compact`: the seed's abbreviated entries. */
export type JsonlMode = "full" | "compact";

export interface JsonlSinkOptions {
  /** The file to create (or truncate), owner-only (0600). */
  path: string;
  /** Default `full`. */
  mode?: JsonlMode;
}

/**
 * The abbreviations of the compact form; other types keep their name. Fields: `m` short model,
 * `l` length in bytes (streamed text, tool output), `n` tool name, `i`/`o`/`$` tokens and cost,
 * `sr` short stop reason, `x` error message (≤ 120 characters).
 */
export const COMPACT_TYPE_ABBREVIATIONS: Readonly<Partial<Record<EventType, string>>> = {
  run_started: "rs",
  message_streamed: "ms",
  tool_call_started: "ts",
  tool_call_completed: "tc",
  token_usage_updated: "tu",
  message_received: "mr",
  run_completed: "rc",
  run_failed: "rf",
  run_cancelled: "rx",
  error_occurred: "er",
};

/**
 * Writes the events themselves (the rendered text is ignored) as JSON Lines. `full`: one stored
 * event per line, exactly as `asm run --json` prints it. `compact`: `{"t": epoch ms, "e": {"t":
 * abbreviation, …fields}}`, the time being the event's own.
 */
export class JsonlSink implements Sink {
  readonly name: string;
  private readonly mode: JsonlMode;
  private handle: FileHandle | undefined;

  constructor(private readonly options: JsonlSinkOptions) {
    this.mode = options.mode ?? "full";
    this.name = `jsonl ${options.path}`;
  }

  async init(): Promise<void> {
    this.handle = await openOwnerOnlyForWriting(this.options.path);
  }

  write(): void {}

  async writeEvent(event: AsmEvent): Promise<void> {
    if (this.handle === undefined) throw new AsmError("invalid_operation", `${this.name} is not open`);
    const entry = this.mode === "compact" ? compactEntry(event) : event;
    await this.handle.write(`${JSON.stringify(entry)}\n`);
  }

  async flush(): Promise<void> {
    await this.handle?.sync();
  }

  async close(): Promise<void> {
    const handle = this.handle;
    this.handle = undefined;
    await handle?.close();
  }
}

/** The compact JSONL entry of an event. */
export function compactEntry(event: AsmEvent): { t: number; e: Record<string, unknown> } {
  return {
    t: Date.parse(event.timestamp),
    e: { t: COMPACT_TYPE_ABBREVIATIONS[event.type] ?? event.type, ...compactFields(event) },
  };
}

function compactFields(event: AsmEvent): Record<string, unknown> {
  switch (event.type) {
    case "run_started":
      return present({ m: shortModel(event.data.model) });
    case "message_streamed":
      return { l: Buffer.byteLength(event.data.delta) };
    case "tool_call_started":
      return { n: event.data.toolName };
    case "tool_call_completed": {
      const output = outputText(event.data.toolOutput);
      return present({ n: event.data.toolName, l: output === "" ? undefined : Buffer.byteLength(output) });
    }
    case "token_usage_updated": {
      const cost = event.data.costUsd;
      return {
        i: event.data.inputTokens,
        o: event.data.outputTokens,
        ...(typeof cost === "number" ? { $: cost } : {}),
      };
    }
    case "run_completed":
      return present({ sr: shortReason(event.data.stopReason) });
    case "run_failed":
    case "error_occurred":
      return present({ x: fitWidth(event.data.errorMessage, 120) });
    default:
      return {};
  }
}

/** Without the fields that are undefined or empty. */
function present(fields: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(
    Object.entries(fields).filter(([, value]) => value !== undefined && value !== ""),
  );
}

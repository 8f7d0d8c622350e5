import { isRecord } from "../../utils/is-record.js";
import { fitWidth } from "../terminal.js";

/** What the studio renderer knows of a tool call when it describes it. */
export interface ToolCallInfo {
  name: string;
  input: Record<string, unknown>;
  /** The provider's output as stored (a string, content blocks, `{ output, exitCode }`…). */
  output?: unknown;
  failed: boolean;
  /** Between the start and end events, from their timestamps. */
  durationMs?: number;
}

const COMMAND_CHARS = 60;
const PATH_CHARS = 60;

/** The line shown while a tool runs: `Reading src/a.ts`, `Running: npm test`. */
export function runningText(tool: Pick<ToolCallInfo, "name" | "input">): string {
  const { input } = tool;
  switch (canonical(tool.name)) {
    case "Bash": {
      const command = commandOf(input);
      return command === undefined ? "Running bash" : `Running: ${fitWidth(command, COMMAND_CHARS)}`;
    }
    case "Read":
      return `Reading ${pathOf(input)}`;
    case "Write":
      return `Writing ${pathOf(input)}`;
    case "Edit":
      return `Editing ${pathOf(input)}`;
    case "Glob":
      return `Searching for ${text(input.pattern) ?? "files"}`;
    case "Grep":
      return `Searching "${text(input.pattern) ?? "pattern"}" in ${text(input.path) ?? "."}`;
    case "Task":
      return `Running task: ${text(input.description) ?? "task"}`;
    case "WebFetch":
      return `Fetching ${hostOf(text(input.url)) ?? "web resource"}`;
    case "WebSearch":
      return `Searching: "${text(input.query) ?? ""}"`;
    default:
      return `Using ${tool.name}`;
  }
}

/** The line shown once a tool ended: `Read src/a.ts (72 lines)`, `Ran: npm test (exit 0, 156 chars, 3.2s)`. */
export function summaryText(tool: ToolCallInfo): string {
  const { input } = tool;
  const output = outputText(tool.output);
  const duration = formatDuration(tool.durationMs);
  switch (canonical(tool.name)) {
    case "Bash": {
      const command = fitWidth(commandOf(input) ?? "bash", COMMAND_CHARS);
      const exit = exitCodeOf(tool.output) ?? (tool.failed ? 1 : 0);
      const details = [`exit ${exit}`, formatSize(output.length), duration].filter((part) => part !== "");
      return `${tool.failed ? `Bash failed: ${command}` : `Ran: ${command}`} (${details.join(", ")})`;
    }
    case "Read":
      return `Read ${shortenPath(pathOf(input))} (${lineCount(output)} lines)`;
    case "Write":
      return `Wrote ${shortenPath(pathOf(input))} (${lineCount(text(input.content) ?? "")} lines)`;
    case "Edit":
      return `Edited ${shortenPath(pathOf(input))}`;
    case "Glob":
      return `Found ${lineCount(output)} files matching ${text(input.pattern) ?? "*"}`;
    case "Grep":
      return `Found ${lineCount(output)} matches for "${text(input.pattern) ?? "pattern"}"`;
    case "Task":
      return `Task complete: ${text(input.description) ?? "task"}${suffix(duration)}`;
    default:
      return `${tool.name} ${tool.failed ? "failed" : "complete"}${suffix(formatSize(output.length))}`;
  }
}

/** The last `count` non-blank lines of the tool's output, trimmed. */
export function previewLines(output: unknown, count: number): string[] {
  return outputLines(output).slice(-count);
}

/** Every non-blank line of the tool's output. */
export function outputLines(output: unknown): string[] {
  return outputText(output)
    .split("\n")
    .map((line) => line.trimEnd())
    .filter((line) => line.trim() !== "");
}

/**
 * A tool output as text, whatever shape the provider stored: a string; Claude's content
 * blocks (`[{ type: "text", text }]`); Codex's and the shell's `{ output, exitCode }`; MCP's
 * `{ content }`; anything else as JSON.
 */
export function outputText(output: unknown): string {
  if (output === undefined || output === null) return "";
  if (typeof output === "string") return output;
  if (Array.isArray(output)) {
    const texts = output.map((block) =>
      isRecord(block) && typeof block.text === "string" ? block.text : undefined,
    );
    if (texts.every((part) => part !== undefined)) return texts.join("\n");
  }
  if (isRecord(output)) {
    if (typeof output.output === "string") return output.output;
    if (
      output.content !== undefined &&
      Object.keys(output).every((key) => key === "content" || output[key] == null)
    ) {
      return outputText(output.content);
    }
    if (Object.keys(output).every((key) => key === "exitCode" || key === "durationMs")) return "";
  }
  return JSON.stringify(output);
}

/** `999 chars`, `1.5k chars`, `12k chars`; `""` for none. */
export function formatSize(chars: number): string {
  if (chars <= 0) return "";
  if (chars < 1000) return `${chars} chars`;
  if (chars < 10_000) return `${Math.round(chars / 100) / 10}k chars`;
  return `${Math.floor(chars / 1000)}k chars`;
}

/** A path longer than `max` keeps its first and last two parts: `/home/…/src/a.ts`. */
export function shortenPath(path: string, max = PATH_CHARS): string {
  if (Array.from(path).length <= max) return path;
  const parts = path.split("/");
  if (parts.length <= 3) return path;
  return [parts[0], "…", ...parts.slice(-2)].join("/");
}

/**
 * Claude's names are the canonical ones (Amp and Codex map theirs onto them); a lowercase `bash`
 * and the shell provider's `shell` command are Bash too.
 */
function canonical(name: string): string {
  return /^(bash|shell)$/i.test(name) ? "Bash" : name;
}

/** Whether the tool runs a command: its summary carries the exit code, failed or not. */
export function isCommandTool(name: string): boolean {
  return canonical(name) === "Bash";
}

function commandOf(input: Record<string, unknown>): string | undefined {
  const { command } = input;
  if (Array.isArray(command)) return command.map(String).join(" ");
  return text(command);
}

function pathOf(input: Record<string, unknown>): string {
  const direct = text(input.file_path) ?? text(input.path) ?? text(input.notebook_path);
  if (direct !== undefined) return direct;
  // Codex's file_change: `{ changes: [{ path, kind }] }`.
  const changes = Array.isArray(input.changes) ? input.changes : [];
  const first = changes.find((change): change is Record<string, unknown> => isRecord(change));
  const path = first === undefined ? undefined : text(first.path);
  if (path === undefined) return "file";
  return changes.length > 1 ? `${path} (+${changes.length - 1} more)` : path;
}

function exitCodeOf(output: unknown): number | undefined {
  return isRecord(output) && typeof output.exitCode === "number" ? output.exitCode : undefined;
}

function text(value: unknown): string | undefined {
  if (typeof value === "string") return value.trim() === "" ? undefined : value.trim();
  if (typeof value === "number") return String(value);
  return undefined;
}

function hostOf(url: string | undefined): string | undefined {
  if (url === undefined) return undefined;
  try {
    return new URL(url).host || undefined;
  } catch {
    return undefined;
  }
}

function lineCount(value: string): number {
  return value.split("\n").filter((line) => line !== "").length;
}

/** Durations over 2 s are worth showing: `3.2s`. */
function formatDuration(ms: number | undefined): string {
  return ms !== undefined && ms > 2000 ? `${Math.round(ms / 100) / 10}s` : "";
}

function suffix(value: string): string {
  return value === "" ? "" : ` (${value})`;
}

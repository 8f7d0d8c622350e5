import { isUtf8 } from "node:buffer";
import type { Readable } from "node:stream";
import { Transform, type TransformCallback } from "node:stream";
import { isRecord } from "../../utils/is-record.js";
import { HeadBuffer } from "./output-buffer.js";

/** Longest output line an adapter accepts by default: 1 MiB. Longer lines are skipped and reported. */
export const DEFAULT_MAX_LINE_BYTES = 1_048_576;
/** How much of a bad line is kept for the report by default: 4 KiB, cut on a UTF-8 boundary. */
export const DEFAULT_PREVIEW_BYTES = 4096;

export interface LineLimits {
  /** Lines longer than this many bytes (without the newline) are skipped. Default 1 MiB. */
  maxLineBytes?: number;
  /** Bytes of a skipped or malformed line kept in its report. Default 4 KiB. */
  previewBytes?: number;
}

/**
 * Why a line of provider output could not be used: not JSON, longer than the limit, JSON but
 * not an object, or an object that is not a frame of the provider's protocol — of a type it does
 * not have (or with no type), or of a known type but the wrong shape (see `FrameCheck`).
 */
export type LineProblemReason =
  | "malformed_json"
  | "oversized_line"
  | "not_an_object"
  | "unknown_frame"
  | "invalid_frame";

/** Where a frame is wrong: a dotted path into the frame (`message.content.0.text`) and what is wrong there. */
export interface FrameIssue {
  path: string;
  message: string;
}

/** Why an object is not a frame of the protocol, as a `FrameCheck` says. */
export interface FrameProblem {
  reason: "unknown_frame" | "invalid_frame";
  message: string;
  /** The frame's `type`, when it has a string one (cut to 100 characters). */
  frameType?: string;
  /** For `invalid_frame`: the first few places where the shape is wrong. */
  issues?: FrameIssue[];
}

/**
 * Tells whether a JSON object is a frame of the provider's protocol, and gives it back typed
 * (see `frameCheck` in frame-check.ts, which builds one from zod schemas).
 */
export type FrameCheck<T> = (
  value: Record<string, unknown>,
) => { ok: true; frame: T } | { ok: false; problem: FrameProblem };

/** A line of provider output that was skipped, with enough of it to tell what it was. */
export interface LineProblem {
  reason: LineProblemReason;
  /** Says what was wrong, e.g. the JSON parser's message. */
  message: string;
  /** 1-based, counting every line, blank ones included. */
  lineNumber: number;
  /** The line's full length in bytes, without its newline. */
  bytes: number;
  /** The start of the line, at most `previewBytes` long. */
  preview: string;
  /** True when `preview` is shorter than the line. */
  truncated: boolean;
  /** For `unknown_frame` and `invalid_frame`: the frame's `type`, when it has a string one. */
  frameType?: string;
  /** For `invalid_frame`: where the frame's shape is wrong. */
  issues?: FrameIssue[];
}

interface SplitterHandlers {
  /** A complete line, without its `\n` (and without a `\r` before it). */
  line(line: Buffer, lineNumber: number): void;
  /** A line longer than the limit: its first bytes and its full length. */
  oversized(head: Buffer, bytes: number, lineNumber: number): void;
}

/**
 * Splits a byte stream into lines with bounded memory: at most `maxLineBytes` of one line are
 * ever buffered. Once a line outgrows the limit, only its first `previewBytes` are kept and the
 * rest is counted and dropped until the next newline, where reading goes on normally.
 */
export class LineSplitter {
  readonly #handlers: SplitterHandlers;
  readonly #maxLineBytes: number;
  readonly #previewBytes: number;
  #pending: Buffer[] = [];
  #pendingBytes = 0;
  /** Set while the rest of an oversized line is being skipped. */
  #skipping: { head: Buffer; bytes: number } | undefined;
  #lineNumber = 0;

  constructor(handlers: SplitterHandlers, limits: LineLimits = {}) {
    this.#handlers = handlers;
    this.#maxLineBytes = limits.maxLineBytes ?? DEFAULT_MAX_LINE_BYTES;
    this.#previewBytes = limits.previewBytes ?? DEFAULT_PREVIEW_BYTES;
  }

  push(chunk: Buffer): void {
    let start = 0;
    while (start < chunk.length) {
      const newline = chunk.indexOf(0x0a, start);
      const end = newline === -1 ? chunk.length : newline;
      const segment = chunk.subarray(start, end);
      if (this.#skipping) {
        this.#skipping.bytes += segment.length;
      } else if (this.#pendingBytes + segment.length > this.#maxLineBytes) {
        const head = Buffer.concat([...this.#pending, segment.subarray(0, this.#previewBytes)]);
        this.#skipping = {
          head: head.subarray(0, this.#previewBytes),
          bytes: this.#pendingBytes + segment.length,
        };
        this.#pending = [];
        this.#pendingBytes = 0;
      } else if (segment.length > 0) {
        // Copied: the caller may reuse its chunk buffer once push returns.
        this.#pending.push(Buffer.from(segment));
        this.#pendingBytes += segment.length;
      }
      if (newline === -1) return;
      this.#finishLine();
      start = newline + 1;
    }
  }

  /** Flushes a last line that had no newline. */
  end(): void {
    if (this.#skipping || this.#pendingBytes > 0) this.#finishLine();
  }

  #finishLine(): void {
    this.#lineNumber += 1;
    const skipping = this.#skipping;
    if (skipping) {
      this.#skipping = undefined;
      this.#handlers.oversized(skipping.head, skipping.bytes, this.#lineNumber);
      return;
    }
    let line =
      this.#pending.length === 1 ? (this.#pending[0] ?? Buffer.alloc(0)) : Buffer.concat(this.#pending);
    this.#pending = [];
    this.#pendingBytes = 0;
    if (line.length > 0 && line[line.length - 1] === 0x0d) line = line.subarray(0, line.length - 1);
    this.#handlers.line(line, this.#lineNumber);
  }
}

/** The first `maxBytes` of `bytes` as text, never ending inside a UTF-8 character. */
export function utf8Preview(bytes: Buffer, maxBytes: number): { text: string; truncated: boolean } {
  if (bytes.length <= maxBytes) return { text: bytes.toString("utf8"), truncated: false };
  const head = new HeadBuffer(maxBytes);
  head.write(bytes);
  return { text: head.text(), truncated: true };
}

/** One parsed line of JSONL output, or the problem that made it unusable. */
export type JsonLine<T = unknown> =
  | { kind: "value"; value: T; lineNumber: number }
  | { kind: "problem"; problem: LineProblem };

export interface ParseLineOptions extends LineLimits {
  /** Report JSON that is not an object (`42`, `"text"`, `[…]`) as `not_an_object`. Default false. */
  requireObject?: boolean;
}

/** Parse options that check each object against a provider's frame protocol (implies `requireObject`). */
export interface FrameLineOptions<T> extends LineLimits {
  /** Objects it refuses are reported as `unknown_frame` / `invalid_frame` instead of being yielded. */
  frames: FrameCheck<T>;
}

type LineOptions = ParseLineOptions | FrameLineOptions<unknown>;

/**
 * Parses one line (already known to fit the limit). Blank lines yield `undefined`: providers
 * print them between frames and they carry nothing. With `frames`, the value is the checked frame.
 */
function parseLine(line: Buffer, lineNumber: number, options: LineOptions): JsonLine | undefined {
  const text = line.toString("utf8");
  if (text.trim() === "") return undefined;
  const previewBytes = options.previewBytes ?? DEFAULT_PREVIEW_BYTES;
  const problem = (
    reason: LineProblemReason,
    message: string,
    frame: Pick<FrameProblem, "frameType" | "issues"> = {},
  ): JsonLine => {
    const preview = utf8Preview(line, previewBytes);
    return {
      kind: "problem",
      problem: {
        reason,
        message,
        lineNumber,
        bytes: line.length,
        preview: preview.text,
        truncated: preview.truncated,
        ...frame,
      },
    };
  };
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    return problem("malformed_json", error instanceof Error ? error.message : String(error));
  }
  const frames = "frames" in options ? options.frames : undefined;
  if ((frames || ("requireObject" in options && options.requireObject)) && !isRecord(value)) {
    return problem("not_an_object", "expected a JSON object");
  }
  if (frames && isRecord(value)) {
    const checked = frames(value);
    if (!checked.ok) {
      const { reason, message, ...frame } = checked.problem;
      return problem(reason, message, frame);
    }
    return { kind: "value", value: checked.frame, lineNumber };
  }
  return { kind: "value", value, lineNumber };
}

function oversizedProblem(
  head: Buffer,
  bytes: number,
  lineNumber: number,
  previewBytes: number,
): LineProblem {
  const preview = utf8Preview(head, previewBytes);
  return {
    reason: "oversized_line",
    message: `line of ${bytes} bytes exceeds the limit`,
    lineNumber,
    bytes,
    preview: preview.text,
    truncated: bytes > Buffer.byteLength(preview.text),
  };
}

/**
 * Reads JSONL from `stream`: yields each line's value (the checked frame, with `frames`), and a
 * problem for each malformed, oversized or (with `frames`) refused line, then goes on with the
 * next line. Memory stays bounded by the line limit.
 */
export function readJsonLines<T>(stream: Readable, options: FrameLineOptions<T>): AsyncGenerator<JsonLine<T>>;
export function readJsonLines(stream: Readable, options?: ParseLineOptions): AsyncGenerator<JsonLine>;
export async function* readJsonLines(stream: Readable, options: LineOptions = {}): AsyncGenerator<JsonLine> {
  const previewBytes = options.previewBytes ?? DEFAULT_PREVIEW_BYTES;
  const queue: JsonLine[] = [];
  const splitter = new LineSplitter(
    {
      line: (line, lineNumber) => {
        const parsed = parseLine(line, lineNumber, options);
        if (parsed) queue.push(parsed);
      },
      oversized: (head, bytes, lineNumber) =>
        queue.push({ kind: "problem", problem: oversizedProblem(head, bytes, lineNumber, previewBytes) }),
    },
    options,
  );
  for await (const chunk of stream) {
    splitter.push(typeof chunk === "string" ? Buffer.from(chunk) : (chunk as Buffer));
    yield* queue.splice(0);
  }
  splitter.end();
  yield* queue.splice(0);
}

/**
 * A line as a reader that splits lines with `node:readline` (as the Claude and Codex SDKs do)
 * reads it back as one line with the same JSON: readline also ends a line at a lone CR, and a CR
 * in valid JSON can only be whitespace (a raw one inside a string is invalid), so CRs are
 * dropped; bytes that are not UTF-8 are written as the U+FFFD they decode to. Other lines are
 * returned as they are.
 */
function readlineSafe(line: Buffer): Buffer {
  if (!line.includes(0x0d) && isUtf8(line)) return line;
  return Buffer.from(line.toString("utf8").replaceAll("\r", ""));
}

/**
 * A stream that lets through only well-formed JSON object lines — with `frames`, only frames
 * the check accepts — each re-terminated with `\n` and safe for a readline-based reader (see
 * `readlineSafe`), and reports every other line to `onProblem`. For putting in front of a parser
 * that would otherwise drop bad lines silently, crash on them, or buffer a huge one whole (an SDK
 * reading a CLI's stdout). When `onProblem` returns a line, that line takes the bad line's place
 * in the output, so a reader downstream learns where the problem was, in order with the other
 * lines.
 */
export function createJsonlFilter(
  onProblem: (problem: LineProblem) => string | undefined,
  options: LineLimits & { frames?: FrameCheck<unknown> } = {},
): Transform {
  const { frames, ...limits } = options;
  const previewBytes = limits.previewBytes ?? DEFAULT_PREVIEW_BYTES;
  let out: Buffer[] = [];
  const replace = (line: string | undefined): void => {
    if (line !== undefined) out.push(Buffer.from(line), NEWLINE);
  };
  const splitter = new LineSplitter(
    {
      line: (line, lineNumber) => {
        const parsed = parseLine(
          line,
          lineNumber,
          frames ? { ...limits, frames } : { ...limits, requireObject: true },
        );
        if (parsed === undefined) return;
        if (parsed.kind === "value") out.push(readlineSafe(line), NEWLINE);
        else replace(onProblem(parsed.problem));
      },
      oversized: (head, bytes, lineNumber) =>
        replace(onProblem(oversizedProblem(head, bytes, lineNumber, previewBytes))),
    },
    limits,
  );
  const flush = (stream: Transform): void => {
    if (out.length === 0) return;
    stream.push(Buffer.concat(out));
    out = [];
  };
  return new Transform({
    transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback) {
      splitter.push(chunk);
      flush(this);
      callback();
    },
    flush(callback: TransformCallback) {
      splitter.end();
      flush(this);
      callback();
    },
  });
}

const NEWLINE = Buffer.from("\n");

import { mulberry32, type RandomSource } from "../../routing/random.js";
import { SCRIPTED_AMP_THREAD_ID, SCRIPTED_CLAUDE_SESSION_ID, SCRIPTED_CODEX_THREAD_ID } from "./profiles.js";
import type { ScriptedCliProvider, TranscriptLine } from "./protocol.js";

/*
 * Fuzzed transcripts for the scripted CLIs: a provider's real start and end around a body of
 * valid "marker" messages interleaved with every kind of bad output — random bytes (NUL, invalid
 * UTF-8, CR), truncated JSON, each frame type in wrong shapes, frames of unknown types, JSON that
 * is not an object, deep nesting and lines of many megabytes. The same seed always gives the
 * same transcript. What an adapter must make of it: every marker as one `message_received`, in
 * order; one `parse_error` per bad line; the run's output the final text.
 */

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type JsonKind = "null" | "boolean" | "number" | "string" | "array" | "object";

/** A place in a frame that the provider's protocol requires to hold a value of `kinds`. */
interface Requirement {
  path: (string | number)[];
  kinds: JsonKind[];
  /** May be left out (so leaving it out does not make the frame wrong). */
  optional?: boolean;
}

/** A valid frame of one type, with what its protocol requires: broken one requirement at a time. */
interface Sample {
  frame: { [key: string]: Json };
  requires: Requirement[];
}

/** What a provider's fuzzed transcript is made of. */
interface FuzzKit {
  /** Transcript lines before the body (placeholders are filled). */
  head: TranscriptLine[];
  /** A valid frame that maps to exactly one `message_received` with `text`. */
  marker(text: string, index: number): { [key: string]: Json };
  /** The lines that end the run with `text` as its output. */
  tail(text: string): TranscriptLine[];
  samples: Sample[];
}

const string = (...path: (string | number)[]): Requirement => ({ path, kinds: ["string"] });
const object = (...path: (string | number)[]): Requirement => ({ path, kinds: ["object"] });
const array = (...path: (string | number)[]): Requirement => ({ path, kinds: ["array"] });
const number = (...path: (string | number)[]): Requirement => ({ path, kinds: ["number"] });
const boolean = (...path: (string | number)[]): Requirement => ({ path, kinds: ["boolean"] });
/** An optional field that may also be `null`. */
const nullish = (kind: JsonKind, ...path: (string | number)[]): Requirement => ({
  path,
  kinds: [kind, "null"],
  optional: true,
});

const CLAUDE_SESSION = SCRIPTED_CLAUDE_SESSION_ID;
const claudeMessage = (id: string, content: Json[]): { [key: string]: Json } => ({
  type: "assistant",
  message: { id, type: "message", role: "assistant", model: "claude-sonnet-4-5", content },
  parent_tool_use_id: null,
  session_id: CLAUDE_SESSION,
});

const CLAUDE_KIT: FuzzKit = {
  head: [
    { $awaitStdin: "user" },
    {
      type: "system",
      subtype: "init",
      cwd: "{{cwd}}",
      session_id: "{{sessionId}}",
      tools: [],
      model: "claude-sonnet-4-5",
    },
  ],
  marker: (text, index) => claudeMessage(`msg_fz_${index}`, [{ type: "text", text }]),
  tail: (text) => [
    {
      type: "result",
      subtype: "success",
      is_error: false,
      result: text,
      num_turns: 1,
      duration_ms: 1,
      duration_api_ms: 1,
      total_cost_usd: 0,
      session_id: "{{sessionId}}",
      permission_denials: [],
    },
  ],
  samples: [
    {
      frame: {
        ...claudeMessage("msg_s1", [{ type: "text", text: "sample" }]),
        message: {
          id: "msg_s1",
          model: "m",
          content: [{ type: "text", text: "sample" }],
          usage: { input_tokens: 1, output_tokens: 1 },
        },
      },
      requires: [
        object("message"),
        string("message", "id"),
        array("message", "content"),
        object("message", "content", 0),
        string("message", "content", 0, "text"),
        nullish("object", "message", "usage"),
        nullish("number", "message", "usage", "input_tokens"),
        nullish("string", "parent_tool_use_id"),
        nullish("string", "session_id"),
      ],
    },
    {
      frame: claudeMessage("msg_s2", [
        { type: "tool_use", id: "toolu_s", name: "Bash", input: { command: "ls" } },
      ]),
      requires: [string("message", "content", 0, "id"), string("message", "content", 0, "name")],
    },
    {
      frame: {
        type: "user",
        message: {
          role: "user",
          content: [{ type: "tool_result", tool_use_id: "toolu_s", content: "out", is_error: false }],
        },
        parent_tool_use_id: null,
        session_id: CLAUDE_SESSION,
      },
      requires: [
        object("message"),
        { path: ["message", "content"], kinds: ["string", "array"] },
        object("message", "content", 0),
        string("message", "content", 0, "tool_use_id"),
        nullish("boolean", "message", "content", 0, "is_error"),
      ],
    },
    {
      frame: {
        type: "stream_event",
        event: { type: "message_start", message: { id: "msg_st", model: "m", usage: { input_tokens: 1 } } },
        parent_tool_use_id: null,
      },
      requires: [
        object("event"),
        string("event", "type"),
        object("event", "message"),
        string("event", "message", "id"),
      ],
    },
    {
      frame: {
        type: "stream_event",
        event: { type: "content_block_delta", index: 0, delta: { type: "text_delta", text: "d" } },
        parent_tool_use_id: null,
      },
      requires: [
        object("event", "delta"),
        string("event", "delta", "type"),
        string("event", "delta", "text"),
      ],
    },
    {
      frame: { type: "system", subtype: "init", session_id: CLAUDE_SESSION, model: "m", tools: ["Bash"] },
      requires: [
        string("subtype"),
        string("session_id"),
        nullish("array", "tools"),
        nullish("string", "model"),
      ],
    },
    {
      frame: {
        type: "system",
        subtype: "api_retry",
        attempt: 1,
        max_retries: 3,
        retry_delay_ms: 10,
        error_status: 500,
      },
      requires: [
        number("attempt"),
        number("max_retries"),
        number("retry_delay_ms"),
        nullish("number", "error_status"),
      ],
    },
    {
      frame: { type: "system", subtype: "permission_denied", tool_name: "Write", tool_use_id: "toolu_w" },
      requires: [string("tool_name"), string("tool_use_id")],
    },
    {
      frame: {
        type: "result",
        subtype: "success",
        is_error: false,
        result: "not this one",
        num_turns: 1,
        total_cost_usd: 0.5,
        permission_denials: [],
      },
      requires: [
        boolean("is_error"),
        string("subtype"),
        string("result"),
        nullish("number", "total_cost_usd"),
        nullish("array", "permission_denials"),
        nullish("number", "num_turns"),
      ],
    },
    {
      frame: { type: "result", subtype: "error_during_execution", is_error: true, errors: ["x"] },
      requires: [array("errors"), string("errors", 0), boolean("is_error")],
    },
    {
      frame: {
        type: "control_response",
        response: { subtype: "success", request_id: "req_fz", response: {} },
      },
      requires: [object("response"), string("response", "request_id")],
    },
    {
      frame: { type: "control_request", request_id: "req_fz", request: { subtype: "interrupt" } },
      requires: [string("request_id"), object("request"), string("request", "subtype")],
    },
  ],
};

const codexItem = (item: { [key: string]: Json }, type = "item.completed"): { [key: string]: Json } => ({
  type,
  item,
});

const CODEX_KIT: FuzzKit = {
  head: [{ type: "thread.started", thread_id: "{{threadId}}" }, { type: "turn.started" }],
  marker: (text, index) => codexItem({ id: `item_fz_${index}`, type: "agent_message", text }),
  tail: (text) => [
    codexItem({ id: "item_fz_final", type: "agent_message", text }),
    { type: "turn.completed", usage: { input_tokens: 0, cached_input_tokens: 0, output_tokens: 0 } },
  ],
  samples: [
    {
      frame: { type: "thread.started", thread_id: SCRIPTED_CODEX_THREAD_ID },
      requires: [string("thread_id")],
    },
    {
      frame: codexItem({ id: "item_s1", type: "agent_message", text: "sample" }),
      requires: [object("item"), string("item", "id"), string("item", "type"), string("item", "text")],
    },
    {
      frame: codexItem(
        {
          id: "item_s2",
          type: "command_execution",
          command: "ls",
          aggregated_output: "",
          exit_code: null,
          status: "in_progress",
        },
        "item.started",
      ),
      requires: [
        string("item", "command"),
        nullish("number", "item", "exit_code"),
        nullish("string", "item", "status"),
        nullish("string", "item", "aggregated_output"),
      ],
    },
    {
      frame: codexItem({
        id: "item_s3",
        type: "mcp_tool_call",
        server: "srv",
        tool: "t",
        arguments: {},
        result: null,
        error: null,
        status: "completed",
      }),
      requires: [
        string("item", "server"),
        string("item", "tool"),
        nullish("object", "item", "error"),
        nullish("object", "item", "result"),
      ],
    },
    {
      frame: codexItem({ id: "item_s4", type: "todo_list", items: [] }, "item.updated"),
      requires: [array("item", "items")],
    },
    {
      frame: codexItem({ id: "item_s5", type: "file_change", changes: [], status: "completed" }),
      requires: [array("item", "changes")],
    },
    {
      frame: codexItem({ id: "item_s6", type: "error", message: "warning" }),
      requires: [string("item", "message")],
    },
    {
      frame: { type: "turn.completed", usage: { input_tokens: 1, output_tokens: 1 } },
      requires: [object("usage"), nullish("number", "usage", "input_tokens")],
    },
    {
      frame: { type: "turn.failed", error: { message: "boom" } },
      requires: [object("error"), string("error", "message")],
    },
    { frame: { type: "error", message: "warning" }, requires: [string("message")] },
  ],
};

const ampMessage = (content: Json[]): { [key: string]: Json } => ({
  type: "assistant",
  message: { type: "message", role: "assistant", content, stop_reason: "end_turn" },
  parent_tool_use_id: null,
  session_id: SCRIPTED_AMP_THREAD_ID,
});

const AMP_KIT: FuzzKit = {
  head: [
    {
      type: "system",
      subtype: "init",
      cwd: "{{cwd}}",
      session_id: "{{threadId}}",
      tools: [],
      mcp_servers: [],
    },
  ],
  marker: (text) => ampMessage([{ type: "text", text }]),
  tail: (text) => [
    {
      type: "result",
      subtype: "success",
      is_error: false,
      result: text,
      num_turns: 1,
      session_id: "{{threadId}}",
    },
  ],
  samples: [
    {
      frame: { type: "system", subtype: "init", session_id: SCRIPTED_AMP_THREAD_ID, tools: [], cwd: "/" },
      requires: [
        string("subtype"),
        string("session_id"),
        { path: ["tools"], kinds: ["array"], optional: true },
      ],
    },
    {
      frame: {
        ...ampMessage([{ type: "text", text: "sample" }]),
        message: { id: "m1", content: [{ type: "text", text: "sample" }], usage: { input_tokens: 1 } },
      },
      requires: [
        object("message"),
        array("message", "content"),
        string("message", "content", 0, "text"),
        nullish("object", "message", "usage"),
        nullish("string", "message", "id"),
      ],
    },
    {
      frame: ampMessage([{ type: "tool_use", id: "toolu_a", name: "Bash", input: {} }]),
      requires: [string("message", "content", 0, "id"), string("message", "content", 0, "name")],
    },
    {
      frame: {
        type: "user",
        message: {
          content: [{ type: "tool_result", tool_use_id: "toolu_a", content: "out", is_error: false }],
        },
        parent_tool_use_id: null,
      },
      requires: [
        object("message"),
        { path: ["message", "content"], kinds: ["string", "array"] },
        string("message", "content", 0, "tool_use_id"),
        nullish("boolean", "message", "content", 0, "is_error"),
      ],
    },
    {
      frame: { type: "result", subtype: "success", is_error: false, result: "not this one", num_turns: 1 },
      requires: [
        string("subtype"),
        { path: ["is_error"], kinds: ["boolean"], optional: true },
        nullish("string", "result"),
        nullish("number", "num_turns"),
      ],
    },
  ],
};

/**
 * The scripted CLIs whose output can be fuzzed: each has a frame that is one whole message. (The
 * Gemini CLI streams text only as deltas, which join across frames, so it has no such marker.)
 */
export type FuzzableProvider = Exclude<ScriptedCliProvider, "gemini">;

const KITS: Record<FuzzableProvider, FuzzKit> = { claude: CLAUDE_KIT, codex: CODEX_KIT, amp: AMP_KIT };

/** Kinds of body line, for the counts a fuzz run reports. */
export type FuzzLineKind =
  | "marker"
  | "wrong_shape"
  | "type_only"
  | "unknown_type"
  | "not_an_object"
  | "truncated_json"
  | "random_bytes"
  | "deep_nesting"
  | "blank"
  | "huge";

export interface FuzzOptions {
  /** Seeds the PRNG (mulberry32): the same seed, the same transcript. */
  seed: number;
  /** Lines in the body, huge lines included. */
  lines: number;
  /** Lines of `hugeBytes` among them (half valid JSON, half garbage). Default 2. */
  hugeLines?: number;
  /** Bytes of each huge line. Default 10 MiB. */
  hugeBytes?: number;
  /** Deepest nesting of a deeply nested line. Default 20 000. */
  maxDepth?: number;
  /**
   * Every body line a plain marker, no huge lines: the clean run of as many lines that a fuzz
   * run's cost (memory, time) is compared with. Default false.
   */
  onlyMarkers?: boolean;
}

export interface FuzzTranscript {
  lines: TranscriptLine[];
  /** The markers' texts, in order: each must become one `message_received`, in this order. */
  markers: string[];
  /** How many body lines must each be reported as one `parse_error`. */
  badLines: number;
  /** The run's expected output. */
  finalText: string;
  /** Body lines by kind. */
  kinds: Record<FuzzLineKind, number>;
}

/** Bytes a line can start with that never begin valid JSON nor whitespace. */
const GARBAGE_START = Buffer.from("#%&*;<>?@^_`|~");

class Fuzzer {
  readonly #random: RandomSource;

  constructor(seed: number) {
    this.#random = mulberry32(seed);
  }

  int(max: number): number {
    return Math.floor(this.#random() * max);
  }

  chance(p: number): boolean {
    return this.#random() < p;
  }

  pick<T>(items: readonly T[]): T {
    const item = items[this.int(items.length)];
    if (item === undefined) throw new Error("pick from an empty list");
    return item;
  }

  /** Random bytes without a newline, starting with a byte no JSON (and no blank line) starts with. */
  garbage(length: number): Buffer {
    const bytes = Buffer.alloc(Math.max(1, length));
    for (let i = 0; i < bytes.length; i += 1) {
      let byte = this.int(256);
      if (byte === 0x0a) byte = 0x00;
      bytes[i] = byte;
    }
    bytes[0] = this.pick([...GARBAGE_START]);
    return bytes;
  }
}

function kindOf(value: Json): JsonKind {
  if (value === null) return "null";
  if (Array.isArray(value)) return "array";
  return typeof value as JsonKind;
}

/** A value of none of `kinds`. */
function wrongValue(fuzz: Fuzzer, kinds: readonly JsonKind[]): Json {
  const candidates: Json[] = [null, true, 7, "fuzz", [], {}, -1.5e300, "\u0000", [null]];
  const wrong = candidates.filter((value) => !kinds.includes(kindOf(value)));
  return fuzz.pick(wrong);
}

function deepClone(value: Json): Json {
  return JSON.parse(JSON.stringify(value)) as Json;
}

/** `frame` with the value at `path` replaced (or deleted, for `undefined`). */
function withValueAt(
  frame: { [key: string]: Json },
  path: (string | number)[],
  value: Json | undefined,
): Json {
  const copy = deepClone(frame);
  let parent: Json = copy;
  for (const key of path.slice(0, -1)) {
    parent = (parent as Record<string | number, Json>)[key] as Json;
  }
  const last = path[path.length - 1] as string | number;
  if (value === undefined) {
    if (Array.isArray(parent)) parent.splice(Number(last), 1);
    else delete (parent as Record<string, Json>)[last];
  } else {
    (parent as Record<string | number, Json>)[last] = value;
  }
  return copy;
}

/** A frame of the right type made wrong at one required place. */
function wrongShape(fuzz: Fuzzer, sample: Sample): Json {
  const requirement = fuzz.pick(sample.requires);
  // Only a field is left out: without an array's element, the rest may be a valid frame.
  const remove = !requirement.optional && typeof requirement.path.at(-1) === "string" && fuzz.chance(0.3);
  return withValueAt(
    sample.frame,
    requirement.path,
    remove ? undefined : wrongValue(fuzz, requirement.kinds),
  );
}

function nested(fuzz: Fuzzer, depth: number): string {
  return fuzz.chance(0.5)
    ? `${"[".repeat(depth)}${"]".repeat(depth)}`
    : `${'{"a":'.repeat(depth)}1${"}".repeat(depth)}`;
}

function bytesLine(line: string | Buffer, ending = "\n"): TranscriptLine {
  const bytes = typeof line === "string" ? Buffer.from(line) : line;
  return { $bytes: Buffer.concat([bytes, Buffer.from(ending)]).toString("base64") };
}

/** A marker frame as one line, in one of the shapes a lenient reader must accept. */
function markerLine(fuzz: Fuzzer, frame: { [key: string]: Json }, maxDepth: number): TranscriptLine {
  const variant = fuzz.int(10);
  if (variant === 0) return bytesLine(JSON.stringify({ ...frame, future_field: { list: [1, "two", null] } }));
  if (variant === 1) {
    const deep = nested(fuzz, 1 + fuzz.int(maxDepth));
    return bytesLine(`${JSON.stringify(frame).slice(0, -1)},"deep":${deep}}`);
  }
  // CRs as whitespace: valid JSON that a readline-based reader would split.
  if (variant === 2) return bytesLine(JSON.stringify(frame).replaceAll(',"', ',\r"'));
  if (variant === 3) return bytesLine(JSON.stringify(frame), "\r\n");
  if (variant === 4) return bytesLine(JSON.stringify({ ...frame, note: "nul \u0000 and \uD83D\uDE00" }));
  return bytesLine(JSON.stringify(frame));
}

/** Builds the fuzzed transcript of `provider`'s scripted CLI for `options.seed`. */
export function fuzzTranscript(provider: FuzzableProvider, options: FuzzOptions): FuzzTranscript {
  const kit = KITS[provider];
  const fuzz = new Fuzzer(options.seed);
  const hugeBytes = options.hugeBytes ?? 10 * 1024 * 1024;
  const maxDepth = options.maxDepth ?? 20_000;
  const kinds: Record<FuzzLineKind, number> = {
    marker: 0,
    wrong_shape: 0,
    type_only: 0,
    unknown_type: 0,
    not_an_object: 0,
    truncated_json: 0,
    random_bytes: 0,
    deep_nesting: 0,
    blank: 0,
    huge: 0,
  };
  const hugeAt = new Set<number>();
  for (let i = 0; i < Math.min(options.onlyMarkers ? 0 : (options.hugeLines ?? 2), options.lines); i += 1) {
    let at = fuzz.int(options.lines);
    while (hugeAt.has(at)) at = (at + 1) % options.lines;
    hugeAt.add(at);
  }
  const markers: string[] = [];
  const body: TranscriptLine[] = [];
  let wrongShapes = 0;
  for (let index = 0; index < options.lines; index += 1) {
    if (hugeAt.has(index)) {
      kinds.huge += 1;
      if (kinds.huge % 2 === 1) {
        body.push({ $oversized: hugeBytes });
      } else {
        const chunk = fuzz.garbage(64 * 1024);
        body.push({ $bytes: chunk.toString("base64"), $repeat: Math.ceil(hugeBytes / chunk.length) });
        body.push(bytesLine(""));
      }
      continue;
    }
    const roll = options.onlyMarkers ? 0 : fuzz.int(100);
    if (roll < 30) {
      const text = `marker-${options.seed}-${markers.length}`;
      markers.push(text);
      kinds.marker += 1;
      const frame = kit.marker(text, markers.length);
      body.push(options.onlyMarkers ? bytesLine(JSON.stringify(frame)) : markerLine(fuzz, frame, maxDepth));
    } else if (roll < 52) {
      // Every frame type in turn, each broken at a random required place.
      const sample = kit.samples[wrongShapes % kit.samples.length] as Sample;
      wrongShapes += 1;
      kinds.wrong_shape += 1;
      body.push(bytesLine(JSON.stringify(wrongShape(fuzz, sample))));
    } else if (roll < 55) {
      kinds.type_only += 1;
      body.push(bytesLine(JSON.stringify({ type: fuzz.pick(kit.samples).frame.type ?? null })));
    } else if (roll < 60) {
      kinds.unknown_type += 1;
      const unknown = fuzz.pick<Json>([
        { type: `fuzz_${fuzz.int(1e6)}`, data: [1, 2] },
        { no_type: true, message: {} },
        { type: fuzz.pick<Json>([7, null, ["assistant"], { a: 1 }, true]) },
        {},
      ]);
      body.push(bytesLine(JSON.stringify(unknown)));
    } else if (roll < 64) {
      kinds.not_an_object += 1;
      body.push(
        bytesLine(
          fuzz.pick(["42", '"a string"', "[1,2,3]", "null", "true", "-0.5e3", '[{"type":"result"}]']),
        ),
      );
    } else if (roll < 76) {
      kinds.truncated_json += 1;
      const whole = JSON.stringify(
        fuzz.chance(0.5) ? fuzz.pick(kit.samples).frame : kit.marker(`cut-${index}`, -1),
      );
      body.push(bytesLine(whole.slice(0, 1 + fuzz.int(whole.length - 1))));
    } else if (roll < 94) {
      kinds.random_bytes += 1;
      body.push(bytesLine(fuzz.garbage(1 + fuzz.int(400))));
    } else if (roll < 97) {
      kinds.deep_nesting += 1;
      body.push(bytesLine(nested(fuzz, 1 + fuzz.int(maxDepth))));
    } else {
      kinds.blank += 1;
      body.push(bytesLine(fuzz.pick(["", " ", "\t \t", "\r"])));
    }
  }
  const finalText = `final-${options.seed}`;
  return {
    lines: [...kit.head, ...body, ...kit.tail(finalText)],
    markers,
    badLines: options.lines - kinds.marker - kinds.blank,
    finalText,
    kinds,
  };
}

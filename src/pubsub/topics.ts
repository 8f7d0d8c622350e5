import { AsmError } from "../core/errors.js";
import type { AsmEvent, EventType } from "../core/events.js";

/** First segment of every topic unless a `prefix` is given. */
export const DEFAULT_TOPIC_PREFIX = "asm";

/** The topics an event is published on: its session's, its run's, its type's (within the session). */
export type TopicScope = "session" | "run" | "type";

export interface TopicOptions {
  /** First segment of the topic: letters, digits, `_` and `-`. Default `"asm"`. */
  prefix?: string;
}

/**
 * Topics are `:`-separated segments: `asm:session:<id>`, `asm:session:<id>:run:<id>`,
 * `asm:session:<id>:type:<type>` (the seed's scheme). A segment holds only letters, digits, `_`,
 * `-` and `%`: ids are written with every other byte as `%XX` (UTF-8), so an id holding `:`, `.`,
 * `*`, `>` or a space can neither forge another topic nor break a broker's subject grammar.
 * Generated ids (`ses_…`, `run_…`) are written unchanged. Redis uses the topic as the channel
 * name; NATS writes it with `.` for `:` (`asm.session.<id>.run.<id>`), which keeps `*` and `>`
 * wildcards usable on it.
 */
const TOPIC_PATTERN = /^[A-Za-z0-9_%-]+(?::[A-Za-z0-9_%-]+)*$/;
const PREFIX_PATTERN = /^[A-Za-z0-9_-]+$/;
/** Longest topic accepted: far above any real one, below every broker's limit. */
const MAX_TOPIC_LENGTH = 1024;

/** An id as one topic segment: bytes outside `[A-Za-z0-9_-]` as `%XX`. */
export function encodeTopicSegment(id: string): string {
  if (id.length === 0) {
    throw new AsmError("validation_error", "a topic id must not be empty", { details: { field: "id" } });
  }
  if (/^[A-Za-z0-9_-]+$/.test(id)) return id;
  let encoded = "";
  for (const byte of Buffer.from(id, "utf8")) {
    const char = String.fromCharCode(byte);
    encoded += /[A-Za-z0-9_-]/.test(char) ? char : `%${byte.toString(16).toUpperCase().padStart(2, "0")}`;
  }
  return encoded;
}

export function sessionTopic(sessionId: string, options: TopicOptions = {}): string {
  return `${prefixOf(options)}:session:${encodeTopicSegment(sessionId)}`;
}

export function runTopic(sessionId: string, runId: string, options: TopicOptions = {}): string {
  return `${sessionTopic(sessionId, options)}:run:${encodeTopicSegment(runId)}`;
}

export function typeTopic(sessionId: string, type: EventType, options: TopicOptions = {}): string {
  return `${sessionTopic(sessionId, options)}:type:${encodeTopicSegment(type)}`;
}

/** The topics `event` goes to for these scopes, in the order given; an event of no run has no run topic. */
export function topicsForEvent(
  event: AsmEvent,
  scopes: readonly TopicScope[],
  options: TopicOptions = {},
): string[] {
  const topics: string[] = [];
  for (const scope of scopes) {
    if (scope === "session") topics.push(sessionTopic(event.sessionId, options));
    else if (scope === "type") topics.push(typeTopic(event.sessionId, event.type, options));
    else if (event.runId) topics.push(runTopic(event.sessionId, event.runId, options));
  }
  return topics;
}

/** Throws `validation_error` for a topic outside the grammar above. */
export function assertTopic(topic: string): void {
  if (typeof topic !== "string" || topic.length > MAX_TOPIC_LENGTH || !TOPIC_PATTERN.test(topic)) {
    throw new AsmError(
      "validation_error",
      `invalid topic ${JSON.stringify(String(topic).slice(0, 80))}: ':'-separated segments of letters, digits, '_', '-', '%'`,
      { details: { field: "topic" }, hint: "Build topics with sessionTopic, runTopic or typeTopic." },
    );
  }
}

function prefixOf(options: TopicOptions): string {
  const prefix = options.prefix ?? DEFAULT_TOPIC_PREFIX;
  if (!PREFIX_PATTERN.test(prefix)) {
    throw new AsmError("validation_error", `invalid topic prefix ${JSON.stringify(prefix)}`, {
      details: { field: "prefix" },
    });
  }
  return prefix;
}

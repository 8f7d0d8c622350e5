import type { EventMetadata } from "./events.js";
import {
  DEFAULT_REDACTION_PATTERNS,
  DEFAULT_SENSITIVE_KEY_PATTERN,
  type RedactionPattern,
  snakeCaseKey,
} from "./redaction-patterns.js";
import type { Run } from "./run.js";
import type { JsonObject, Session } from "./session.js";
import { type StreamedEvent, StreamRedactionWindow } from "./stream-redaction.js";

export { DEFAULT_REDACTION_PATTERNS, DEFAULT_SENSITIVE_KEY_PATTERN, type RedactionPattern };

export interface RedactionOptions {
  /** Patterns to apply. Default: `DEFAULT_REDACTION_PATTERNS`. */
  patterns?: readonly RedactionPattern[];
  /** Extra patterns applied after `patterns`. Default none. */
  extraPatterns?: readonly RedactionPattern[];
  /** Replacement text, or `"categorized"` for `[REDACTED:<category>]`. Default `"[REDACTED]"`. */
  replacement?: string | "categorized";
  /**
   * Object keys whose string values are replaced whole, whatever they look like; tested against
   * the key in snake_case, lower case. `false` turns this off.
   * Default: `DEFAULT_SENSITIVE_KEY_PATTERN` (`password`, `apiKey`, `client_secret`, `token`, …).
   */
  sensitiveKeyPattern?: RegExp | false;
}

/** The redactor an option asks for: `true` → the defaults, options → those, off → none. */
export function createRedactor(option: boolean | RedactionOptions | undefined): Redactor | undefined {
  if (!option) return undefined;
  return new Redactor(option === true ? {} : option);
}

/** What a redaction pass changed. */
export interface RedactionReport {
  /** Replacements made. */
  count: number;
  /** Paths of the fields changed, e.g. `data.toolInput.command[2]`, `metadata.note`; at most 64. */
  fields: string[];
}

/** A redacted copy and what was changed to make it. */
export interface Redacted<T> extends RedactionReport {
  value: T;
}

/** An event, stored or about to be: what `redactEvent` needs of it. */
export interface RedactableEvent {
  data: unknown;
  metadata: EventMetadata;
}

/**
 * How deep the redactor walks into a value. A container nested deeper is replaced by a
 * `too_deep` marker: it is never stored unscanned. The walk is iterative, so any depth is safe.
 */
export const REDACTION_MAX_DEPTH = 64;

/** Keys whose verdict (sensitive or not) is remembered; the memo starts over when full. */
const MAX_KEY_VERDICTS = 4096;

/** Field paths kept per report (and per record's `metadata.redactedFields`); the count is exact. */
export const MAX_REPORTED_FIELDS = 64;

/**
 * Replaces secrets in everything that is persisted: strings matching a pattern (anywhere in a
 * value, object keys included), string values of sensitive keys, and containers nested beyond
 * `REDACTION_MAX_DEPTH`. Pure: inputs are never mutated; copies are returned with a report of
 * the fields changed.
 */
export class Redactor {
  private readonly patterns: readonly RedactionPattern[];
  /** Patterns grouped so that one regex test tells that none of a group can match. */
  private readonly detectors: readonly RegExp[];
  /** Patterns that cannot be combined into a detector (backreferences): always applied. */
  private readonly undetected: ReadonlySet<RedactionPattern>;
  private readonly replacement: string | "categorized";
  private readonly replacementPrefix: string;
  private readonly sensitiveKey: RegExp | false;
  private readonly keyVerdicts = new Map<string, boolean>();

  constructor(options: RedactionOptions = {}) {
    this.patterns = [...(options.patterns ?? DEFAULT_REDACTION_PATTERNS), ...(options.extraPatterns ?? [])];
    for (const { category, regex } of this.patterns) {
      if (!regex.global) throw new TypeError(`redaction pattern ${category} must use the g flag`);
    }
    this.replacement = options.replacement ?? "[REDACTED]";
    if (this.replacement === "") throw new TypeError("the redaction replacement must not be empty");
    this.replacementPrefix = this.replacement === "categorized" ? "[REDACTED" : this.replacement;
    this.sensitiveKey = options.sensitiveKeyPattern ?? DEFAULT_SENSITIVE_KEY_PATTERN;
    const { detectors, undetected } = buildDetectors(this.patterns);
    this.detectors = detectors;
    this.undetected = undetected;
  }

  /** Redacts a string; returns it with the number of replacements made. */
  redactText(text: string): { text: string; count: number } {
    const candidates = this.detectors.some((detector) => detector.test(text));
    if (!candidates && this.undetected.size === 0) return { text, count: 0 };
    let count = 0;
    let result = text;
    for (const pattern of this.patterns) {
      if (!candidates && !this.undetected.has(pattern)) continue;
      result = result.replace(pattern.regex, (...args: unknown[]) => {
        // (match, ...captures, offset, input, groups?) — groups only when the regex names some.
        const match = args[0] as string;
        const groups = args.at(-1);
        const named = typeof groups === "object" && groups !== null;
        const keep = named ? ((groups as { keep?: string }).keep ?? "") : "";
        const offset = args.at(named ? -3 : -2) as number;
        const input = args.at(named ? -2 : -1) as string;
        // Already replaced by an earlier pattern (or an earlier pass): nothing left to hide.
        if (input.startsWith(this.replacementPrefix, offset + keep.length)) return match;
        count += 1;
        return keep + this.replacementFor(pattern.category);
      });
    }
    return { text: result, count };
  }

  /**
   * Redacts every string of a JSON-like value, object keys included; returns a copy. `path`
   * prefixes the reported field paths (`"data"` → `data.toolInput.command`).
   */
  redactValue<T>(value: T, path = ""): Redacted<T> {
    const report = new Report();
    const redacted = this.walk(value, path, report) as T;
    return { value: redacted, count: report.count, fields: report.fields };
  }

  /**
   * Redacts an event's data and metadata. When anything changed, `metadata.redactions` counts
   * the replacements and `metadata.redactedFields` names the fields (`data.delta`, `metadata.x`).
   */
  redactEvent<E extends RedactableEvent>(event: E): Redacted<E> {
    const report = new Report();
    const data = this.walk(event.data, "data", report);
    const metadata = this.walk(event.metadata, "metadata", report) as EventMetadata;
    if (report.count === 0) return { value: event, count: 0, fields: [] };
    const previous = typeof metadata.redactions === "number" ? metadata.redactions : 0;
    return {
      value: {
        ...event,
        data,
        metadata: {
          ...metadata,
          redactions: previous + report.count,
          redactedFields: mergeFields(metadata.redactedFields, report.fields),
        },
      },
      count: report.count,
      fields: report.fields,
    };
  }

  /** Redacts a session's metadata, context and tags; the changed fields go to `metadata.redactedFields`. */
  redactSession(session: Session): Redacted<Session> {
    const report = new Report();
    const metadata = this.walk(session.metadata, "metadata", report) as JsonObject;
    const context = this.walk(session.context, "context", report) as JsonObject;
    const tags = this.walk(session.tags, "tags", report) as string[];
    if (report.count === 0) return { value: session, count: 0, fields: [] };
    return {
      value: { ...session, metadata: withFields(metadata, report.fields), context, tags },
      count: report.count,
      fields: report.fields,
    };
  }

  /**
   * Redacts a run's input, output, error, metadata and provider metadata; the changed fields go
   * to `metadata.redactedFields` (`input.prompt`, `output.content`, `error.providerError.stderr`).
   */
  redactRun(run: Run): Redacted<Run> {
    const report = new Report();
    const input = this.walk(run.input, "input", report) as Run["input"];
    const output = run.output && (this.walk(run.output, "output", report) as Run["output"]);
    const error = run.error && (this.walk(run.error, "error", report) as Run["error"]);
    const metadata = this.walk(run.metadata, "metadata", report) as JsonObject;
    const providerMetadata = this.walk(run.providerMetadata, "providerMetadata", report) as JsonObject;
    if (report.count === 0) return { value: run, count: 0, fields: [] };
    return {
      value: {
        ...run,
        input,
        ...(output ? { output } : {}),
        ...(error ? { error } : {}),
        metadata: withFields(metadata, report.fields),
        providerMetadata,
      },
      count: report.count,
      fields: report.fields,
    };
  }

  /**
   * Redacts a whole session as exported: the session, each run and each event. Streamed deltas
   * pass through a `StreamRedactionWindow` first, so a secret a store holds split across two
   * deltas (written without redaction) is caught too. Fields are reported as
   * `session.context.x`, `runs[0].input.prompt`, `events[3].data.delta`.
   */
  redactSessionExport<
    X extends {
      session: Session;
      runs: readonly Run[];
      events: readonly (RedactableEvent & StreamedEvent)[];
    },
  >(exported: X): Redacted<X> {
    let count = 0;
    const fields: string[] = [];
    const note = (prefix: string, redacted: RedactionReport) => {
      count += redacted.count;
      for (const field of redacted.fields) {
        if (fields.length < MAX_REPORTED_FIELDS) fields.push(`${prefix}.${field}`);
      }
    };
    const session = this.redactSession(exported.session);
    note("session", session);
    const runs = exported.runs.map((run, index) => {
      const redacted = this.redactRun(run);
      note(`runs[${index}]`, redacted);
      return redacted.value;
    });
    const carried: X["events"][number][] = [];
    const window = new StreamRedactionWindow<X["events"][number]>((event) => carried.push(event));
    for (const event of exported.events) window.accept(event);
    window.release();
    const events = carried.map((event, index) => {
      const redacted = this.redactEvent(event);
      note(`events[${index}]`, redacted);
      return redacted.value;
    });
    return { value: { ...exported, session: session.value, runs, events }, count, fields };
  }

  private replacementFor(category: string): string {
    return this.replacement === "categorized" ? `[REDACTED:${category}]` : this.replacement;
  }

  /** True for a string that is nothing but a replacement (redacting it again would count twice). */
  private isReplacement(text: string): boolean {
    return this.replacement === "categorized"
      ? /^\[REDACTED:[\w-]+\]$/.test(text)
      : text === this.replacement;
  }

  private isSensitiveKey(key: string): boolean {
    if (this.sensitiveKey === false) return false;
    let sensitive = this.keyVerdicts.get(key);
    if (sensitive === undefined) {
      sensitive = this.sensitiveKey.test(snakeCaseKey(key));
      // Keys repeat (delta, role, toolInput …); a bounded memo keeps the hot path cheap.
      if (this.keyVerdicts.size >= MAX_KEY_VERDICTS) this.keyVerdicts.clear();
      this.keyVerdicts.set(key, sensitive);
    }
    return sensitive;
  }

  /** True when a string could hold a secret: some pattern may match it. */
  private mayMatch(text: string): boolean {
    return this.undetected.size > 0 || this.detectors.some((detector) => detector.test(text));
  }

  /**
   * Whether `walk` would change anything in `root`, found without copying it: nearly every
   * event holds no secret, and this lets it be stored as it came.
   */
  private needsWalk(root: unknown): boolean {
    const stack: { node: unknown; depth: number; sensitive: boolean }[] = [
      { node: root, depth: 0, sensitive: false },
    ];
    for (let entry = stack.pop(); entry; entry = stack.pop()) {
      const { node, depth, sensitive } = entry;
      if (typeof node === "string") {
        if ((sensitive && node !== "" && !this.isReplacement(node)) || this.mayMatch(node)) return true;
        continue;
      }
      if (node === null || typeof node !== "object" || node instanceof Date) continue;
      if (depth >= REDACTION_MAX_DEPTH || typeof (node as { toJSON?: unknown }).toJSON === "function") {
        return true;
      }
      if (Array.isArray(node)) {
        for (const item of node) stack.push({ node: item, depth: depth + 1, sensitive: false });
        continue;
      }
      for (const key in node) {
        if (!Object.hasOwn(node, key)) continue;
        if (this.mayMatch(key)) return true;
        const value = (node as Record<string, unknown>)[key];
        stack.push({ node: value, depth: depth + 1, sensitive: this.isSensitiveKey(key) });
      }
    }
    return false;
  }

  /**
   * The copy of `root`, built with an explicit stack (never the call stack, whatever the depth).
   * Each object's keys are placed in order before its values are filled in, so key order holds.
   */
  private walk(root: unknown, rootPath: string, report: Report): unknown {
    if (!this.needsWalk(root)) return root;
    const holder: Record<string, unknown> = {};
    const stack: Frame[] = [{ source: root, target: holder, key: "root", depth: 0, path: rootPath }];
    for (let frame = stack.pop(); frame; frame = stack.pop()) {
      const { target, key, depth, path } = frame;
      const node = frame.source;
      if (frame.keyRedactions) report.add(frame.keyRedactions, path);
      if (frame.sensitive && typeof node === "string" && node !== "" && !this.isReplacement(node)) {
        report.add(1, path);
        assign(target, key, this.replacementFor("sensitive_field"));
        continue;
      }
      if (typeof node === "string") {
        const redacted = this.redactText(node);
        if (redacted.count > 0) report.add(redacted.count, path);
        assign(target, key, redacted.text);
        continue;
      }
      if (node === null || typeof node !== "object" || node instanceof Date) {
        assign(target, key, node);
        continue;
      }
      if (!frame.converted && typeof (node as { toJSON?: unknown }).toJSON === "function") {
        // Stored as JSON, so what counts is what toJSON gives (a Buffer's bytes, say).
        stack.push({
          ...frame,
          source: (node as { toJSON(): unknown }).toJSON(),
          converted: true,
          keyRedactions: 0,
        });
        continue;
      }
      if (depth >= REDACTION_MAX_DEPTH) {
        report.add(1, path);
        assign(target, key, this.replacementFor("too_deep"));
        continue;
      }
      if (Array.isArray(node)) {
        const copy: unknown[] = new Array(node.length);
        assign(target, key, copy);
        for (let index = node.length - 1; index >= 0; index--) {
          stack.push({
            source: node[index],
            target: copy,
            key: index,
            depth: depth + 1,
            path: [path, index],
          });
        }
        continue;
      }
      const copy: Record<string, unknown> = {};
      assign(target, key, copy);
      const children: Frame[] = [];
      for (const [originalKey, value] of Object.entries(node)) {
        const redactedKey = this.redactText(originalKey);
        const ownKey = Object.hasOwn(copy, redactedKey.text)
          ? uniqueKey(copy, redactedKey.text)
          : redactedKey.text;
        assign(copy, ownKey, undefined);
        children.push({
          source: value,
          target: copy,
          key: ownKey,
          depth: depth + 1,
          path: [path, ownKey],
          keyRedactions: redactedKey.count,
          sensitive: this.isSensitiveKey(originalKey),
        });
      }
      for (let index = children.length - 1; index >= 0; index--) stack.push(children[index] as Frame);
    }
    return holder.root;
  }
}

/** A field's path, built only when something in it was redacted: a parent path and a key. */
type Path = string | [Path, string | number];

interface Frame {
  source: unknown;
  target: Record<string, unknown> | unknown[];
  key: string | number;
  depth: number;
  path: Path;
  /** Already replaced by its `toJSON()`, which is called once. */
  converted?: boolean;
  /** Secrets found in the field's own key (reported with the field). */
  keyRedactions?: number;
  /** The field's key names a credential: a string value is replaced whole. */
  sensitive?: boolean;
}

class Report {
  count = 0;
  readonly fields: string[] = [];
  private readonly seen = new Set<string>();

  add(count: number, path: Path): void {
    this.count += count;
    if (this.fields.length >= MAX_REPORTED_FIELDS) return;
    const field = renderPath(path);
    if (this.seen.has(field)) return;
    this.seen.add(field);
    this.fields.push(field);
  }
}

function renderPath(path: Path): string {
  if (typeof path === "string") return path;
  const [parent, key] = path;
  const head = renderPath(parent);
  if (typeof key === "number") return `${head}[${key}]`;
  return head === "" ? key : `${head}.${key}`;
}

function assign(target: Record<string, unknown> | unknown[], key: string | number, value: unknown): void {
  if (key === "__proto__") {
    // A plain assignment would set the copy's prototype instead of keeping the field.
    Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
  } else {
    (target as Record<string | number, unknown>)[key] = value;
  }
}

/** Two keys redacted to the same text both stay: `[REDACTED]`, `[REDACTED]#2`, … */
function uniqueKey(target: Record<string, unknown>, key: string): string {
  if (!Object.hasOwn(target, key)) return key;
  let suffix = 2;
  while (Object.hasOwn(target, `${key}#${suffix}`)) suffix += 1;
  return `${key}#${suffix}`;
}

function withFields(metadata: JsonObject, fields: readonly string[]): JsonObject {
  return { ...metadata, redactedFields: mergeFields(metadata.redactedFields, fields) };
}

/** Fields reported by an earlier pass (the record was saved before) and this one, once each. */
function mergeFields(previous: unknown, fields: readonly string[]): string[] {
  const earlier = Array.isArray(previous) ? previous.filter((field) => typeof field === "string") : [];
  return [...new Set([...earlier, ...fields])].slice(0, MAX_REPORTED_FIELDS);
}

const BACKREFERENCE = /\\[1-9]|\\k</;
const NAMED_GROUP = /(?<!\\)\(\?<([A-Za-z_$][\w$]*)>/g;

/**
 * One non-global regex per flag set, the alternation of its patterns: a text none of them
 * matches (nearly every streamed delta) costs one scan instead of one per pattern. Patterns
 * with backreferences would change meaning in an alternation, so they are left out and always run.
 */
function buildDetectors(patterns: readonly RedactionPattern[]): {
  detectors: RegExp[];
  undetected: Set<RedactionPattern>;
} {
  const byFlags = new Map<string, string[]>();
  const undetected = new Set<RedactionPattern>();
  for (const pattern of patterns) {
    const { source, flags, sticky } = pattern.regex;
    if (sticky || BACKREFERENCE.test(source)) {
      undetected.add(pattern);
      continue;
    }
    const key = flags.replace(/[gd]/g, "");
    const sources = byFlags.get(key) ?? [];
    sources.push(`(?:${source.replace(NAMED_GROUP, "(?:")})`);
    byFlags.set(key, sources);
  }
  const detectors = [...byFlags].map(([flags, sources]) => new RegExp(sources.join("|"), flags));
  return { detectors, undetected };
}

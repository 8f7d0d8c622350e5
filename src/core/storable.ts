/**
 * What every store can hold, and how any value is brought within it.
 *
 * A storable value is JSON that PostgreSQL's jsonb accepts too: `null`, booleans, finite
 * numbers, strings without NUL characters and without lone UTF-16 surrogates, arrays, and plain
 * objects (prototype `Object.prototype` or `null`) of storable values; `undefined` members are
 * tolerated (JSON leaves them out). Within that, three limits bound an event:
 *
 * - nesting: objects and arrays at most `maxDepth` levels deep (the event's `data` is level 1);
 * - strings (values and keys): at most `maxStringLength` UTF-16 code units (`String#length`);
 * - the event: its `data` and `metadata` together at most `maxEventLength` characters of JSON
 *   text, counted without escape characters (so about 1 MiB of ASCII).
 *
 * Both walks here are iterative and bounded by the event budget, so no input — 100,000 levels
 * deep, cyclic, or a graph that shares subtrees exponentially — can overflow the stack or run
 * unbounded.
 */

export interface StorableLimits {
  /** Deepest nesting of objects and arrays; the root object is level 1. */
  maxDepth: number;
  /** Longest string, value or key, in UTF-16 code units. */
  maxStringLength: number;
  /** Longest event: JSON length of `data` plus `metadata`, escape characters not counted. */
  maxEventLength: number;
}

/** The limits every store enforces and the SessionManager brings every event within. */
export const EVENT_LIMITS: Readonly<StorableLimits> = Object.freeze({
  maxDepth: 64,
  maxStringLength: 256 * 1024,
  maxEventLength: 1024 * 1024,
});

/** Why a value cannot be stored as it is. */
export type StorableProblemKind =
  /** Objects or arrays nested deeper than `maxDepth` (a cycle is infinitely deep). */
  | "depth"
  /** A string or key longer than `maxStringLength`. */
  | "string_length"
  /** The event is longer than `maxEventLength`. */
  | "event_length"
  /** A string or key with a NUL character or a lone surrogate (PostgreSQL refuses both). */
  | "text"
  /** Not JSON: bigint, function, symbol, NaN, ±Infinity, or an object that is not plain. */
  | "unrepresentable";

export interface StorableProblem {
  kind: StorableProblemKind;
  /** Where, as a dotted path from `root` (`data.toolInput.a.0`), at most 200 characters. */
  path: string;
  message: string;
}

export type StorableCheck = { ok: true; length: number } | { ok: false; problem: StorableProblem };

/** What `makeEventStorable` changed; stored as `metadata.truncated`. */
export interface StorableReport {
  /** Objects and arrays beyond `maxDepth`, each replaced by `"[truncated: depth > 64]"`. */
  depth?: number;
  /** Strings and keys cut to `maxStringLength`, each ending with `…[truncated: N chars]`. */
  strings?: number;
  /** Array items and object members left out to keep the event within `maxEventLength`. */
  members?: number;
  /** Values JSON cannot hold, replaced: cycles, NaN, bigint, functions, NUL, lone surrogates. */
  unrepresentable?: number;
  /** Where (dotted paths from the event: `data.…`, `metadata.…`), the first 10. */
  paths: string[];
}

export interface StorableEvent {
  data: Record<string, unknown>;
  metadata: Record<string, unknown>;
  /** `undefined` when both were storable as they were (and are returned unchanged). */
  report: StorableReport | undefined;
}

/** Room kept free for the report the caller adds to `metadata` (10 paths of ≤ 200 chars and counts). */
export const STORABLE_REPORT_RESERVE = 8 * 1024;
const MAX_REPORTED_PATHS = 10;
const MAX_PATH_LENGTH = 200;
/** Longest marker a cut container gets, with its key and comma. */
const MARKER_ROOM = 64;

/**
 * Checks whether `value` can be stored as it is, within `budget` characters of JSON. Answers its
 * JSON length, or the first problem found. Work is bounded by `budget`: the walk stops as soon
 * as the running length exceeds it.
 */
export function checkStorable(
  value: unknown,
  budget: number,
  root = "data",
  limits: StorableLimits = EVENT_LIMITS,
): StorableCheck {
  const rootFrame: CheckFrame = { value, depth: 1, parent: undefined, key: root };
  if (!isContainer(value)) {
    const cost = primitiveCost(value, limits);
    if (typeof cost === "string") return failed(cost, rootFrame, value, limits);
    return cost > budget ? eventTooLong(rootFrame, budget) : { ok: true, length: cost };
  }
  let length = 0;
  const stack: CheckFrame[] = [];
  try {
    for (let frame: CheckFrame | undefined = rootFrame; frame !== undefined; frame = stack.pop()) {
      const { value: node, depth } = frame;
      if (depth > limits.maxDepth) return failed("depth", frame, node, limits);
      if (!isPlainContainer(node as object)) return failed("unrepresentable", frame, node, limits);
      if (Array.isArray(node)) {
        length += node.length === 0 ? 2 : node.length + 1;
        for (let index = 0; index < node.length; index++) {
          const item: unknown = node[index];
          if (isContainer(item)) {
            stack.push({ value: item, depth: depth + 1, parent: frame, key: String(index) });
          } else {
            const cost = item === undefined ? 4 : primitiveCost(item, limits);
            if (typeof cost === "string")
              return failed(cost, { parent: frame, key: String(index) }, item, limits);
            length += cost;
          }
        }
      } else {
        length += 2;
        let first = true;
        for (const key of Object.keys(node as object)) {
          const item: unknown = (node as Record<string, unknown>)[key];
          if (item === undefined) continue;
          const keyProblem = textProblem(key, limits);
          if (keyProblem) return failed(keyProblem, { parent: frame, key }, key, limits);
          length += key.length + (first ? 3 : 4);
          first = false;
          if (isContainer(item)) {
            stack.push({ value: item, depth: depth + 1, parent: frame, key });
          } else {
            const cost = primitiveCost(item, limits);
            if (typeof cost === "string") return failed(cost, { parent: frame, key }, item, limits);
            length += cost;
          }
        }
      }
      if (length > budget) return eventTooLong(frame, budget);
    }
  } catch (error) {
    // A getter or proxy that throws: whatever it guards cannot be read, let alone stored.
    return {
      ok: false,
      problem: {
        kind: "unrepresentable",
        path: formatPath(rootFrame),
        message: `a value cannot be read: ${error instanceof Error ? error.message : String(error)}`,
      },
    };
  }
  return length > budget ? eventTooLong(rootFrame, budget) : { ok: true, length };
}

/**
 * Brings an event's `data` and `metadata` within `limits`, never throwing: values JSON cannot
 * hold are replaced (cycles by `"[circular]"`, NaN and ±Infinity by `null`, bigints by their
 * digits, NUL and lone surrogates by U+FFFD, functions and symbols left out as JSON does, objects
 * with `toJSON` by its result, errors by `{ name, message }`); deeper nesting, longer strings and
 * what exceeds the event budget are cut, each with a visible marker. Within an object, plain
 * values are kept before nested ones, so an oversized event keeps its ids and names.
 *
 * The result leaves `STORABLE_REPORT_RESERVE` characters free for the report the caller stores
 * in `metadata`. Values already storable are returned as they are (no copy).
 */
export function makeEventStorable(
  data: Record<string, unknown>,
  metadata: Record<string, unknown>,
  limits: StorableLimits = EVENT_LIMITS,
): StorableEvent {
  // Made only when something must be copied: nearly every event is storable as it is.
  let report: MutableReport | undefined;
  // Metadata is small in practice; a quarter of the event keeps a runaway one from starving data.
  const metadataBudget = Math.floor(limits.maxEventLength / 4);
  const metadataCheck = checkStorable(metadata, metadataBudget, "metadata", limits);
  let storedMetadata = metadata;
  let metadataLength: number;
  if (metadataCheck.ok) {
    metadataLength = metadataCheck.length;
  } else {
    report = emptyReport();
    const copy = copyStorable(metadata, "metadata", metadataBudget, limits, report);
    storedMetadata = asObject(copy.value);
    metadataLength = copy.length;
  }
  const dataBudget = limits.maxEventLength - STORABLE_REPORT_RESERVE - metadataLength;
  let storedData = data;
  if (!checkStorable(data, dataBudget, "data", limits).ok) {
    report ??= emptyReport();
    storedData = asObject(copyStorable(data, "data", dataBudget, limits, report).value);
  }
  return {
    data: storedData,
    metadata: storedMetadata,
    report: report === undefined ? undefined : compactReport(report),
  };
}

function emptyReport(): MutableReport {
  return { depth: 0, strings: 0, members: 0, unrepresentable: 0, paths: [] };
}

/** Sums two reports (the manager makes an event storable before and after redaction). */
export function mergeStorableReports(
  first: StorableReport | undefined,
  second: StorableReport | undefined,
): StorableReport | undefined {
  if (first === undefined || second === undefined) return first ?? second;
  const sum = (a: number | undefined, b: number | undefined) => (a ?? 0) + (b ?? 0);
  return compactReport({
    depth: sum(first.depth, second.depth),
    strings: sum(first.strings, second.strings),
    members: sum(first.members, second.members),
    unrepresentable: sum(first.unrepresentable, second.unrepresentable),
    paths: [...first.paths, ...second.paths].slice(0, MAX_REPORTED_PATHS),
  });
}

interface PathNode {
  parent: PathNode | undefined;
  key: string;
}

/** A value to check, and its place: a frame is the path node of its members. */
interface CheckFrame extends PathNode {
  value: unknown;
  depth: number;
}

type MutableReport = Required<StorableReport>;

/** A copy being filled: its slots for nested values are filled later, from the stack. */
interface Container {
  copy: unknown[] | Record<string, unknown>;
  /** The original (after toJSON), to recognise cycles among ancestors. */
  source: object;
  parent: Container | undefined;
  depth: number;
  path: PathNode;
  /** Keys (or indices) of the nested members whose copy the budget ran out before. */
  pendingKeys: (string | number)[];
  /** Members from this position of the source on (in source order) were never copied. */
  cutFrom: number | undefined;
  /** How many members the source has, for the "N more" marker. */
  size: number;
}

interface CopyTask {
  source: unknown;
  parent: Container;
  key: string | number;
}

type Note = (kind: keyof Omit<MutableReport, "paths">, path: PathNode) => void;

/** The iterative, budgeted copy behind `makeEventStorable`. */
function copyStorable(
  value: Record<string, unknown>,
  root: string,
  budget: number,
  limits: StorableLimits,
  report: MutableReport,
): { value: unknown; length: number } {
  // Room for the one marker each container on the path to the cut may get.
  const available = budget - (limits.maxDepth + 1) * MARKER_ROOM;
  let length = 0;
  let exhausted = false;
  const note: Note = (kind, path) => {
    report[kind] += 1;
    if (report.paths.length < MAX_REPORTED_PATHS) report.paths.push(formatPath(path));
  };
  const charge = (cost: number): boolean => {
    if (exhausted || length + cost > available) {
      exhausted = true;
      return false;
    }
    length += cost;
    return true;
  };
  const stack: CopyTask[] = [];
  const opened: Container[] = [];

  const open = (source: object, parent: Container | undefined, path: PathNode, depth: number) => {
    if (!charge(2)) return undefined;
    const container: Container = {
      copy: Array.isArray(source) ? [] : {},
      source,
      parent,
      depth,
      path,
      pendingKeys: [],
      cutFrom: undefined,
      size: 0,
    };
    opened.push(container);
    fill(container, memberKeys(source, path));
    return container;
  };

  /** The source's keys (`undefined` for an array); a proxy whose listing throws counts as empty. */
  const memberKeys = (source: object, path: PathNode): string[] | undefined => {
    if (Array.isArray(source)) return undefined;
    try {
      return Object.keys(source);
    } catch {
      note("unrepresentable", path);
      return [];
    }
  };

  /** Copies the plain members now; queues the nested ones, which keep their place. */
  const fill = (container: Container, keys: string[] | undefined): void => {
    const { source, copy, path } = container;
    const size = keys === undefined ? (source as unknown[]).length : keys.length;
    container.size = size;
    const nested: CopyTask[] = [];
    let count = 0;
    for (let position = 0; position < size; position++) {
      if (exhausted) {
        container.cutFrom = position;
        break;
      }
      const sourceKey = keys === undefined ? position : (keys[position] as string);
      const memberPath: PathNode = { parent: path, key: String(sourceKey) };
      const item = toJsonValue(readMember(source, sourceKey), String(sourceKey), memberPath, limits, note);
      const inArray = keys === undefined;
      if (!inArray && (item === undefined || typeof item === "function" || typeof item === "symbol")) {
        if (item !== undefined) note("unrepresentable", memberPath);
        continue; // left out, as JSON does
      }
      const key = inArray ? position : storableKey(sourceKey as string, copy, limits, memberPath, note);
      const overhead = (count === 0 ? 0 : 1) + (typeof key === "string" ? key.length + 3 : 0);
      if (isContainer(item)) {
        if (!charge(overhead)) {
          container.cutFrom = position;
          break;
        }
        setMember(copy, key, null); // keeps its place; filled from the stack
        nested.push({ source: item, parent: container, key });
      } else {
        const value = item === undefined ? null : (storablePrimitive(item, memberPath, limits, note) ?? null);
        if (!charge(overhead + (primitiveCost(value, limits) as number))) {
          container.cutFrom = position;
          break;
        }
        setMember(copy, key, value);
      }
      count += 1;
    }
    for (let index = nested.length - 1; index >= 0; index--) stack.push(nested[index] as CopyTask);
  };

  const rootPath: PathNode = { parent: undefined, key: root };
  const top = toJsonValue(value, "", rootPath, limits, note);
  if (!isContainer(top)) {
    // Only a root object whose toJSON answers a primitive ends up here; stores hold objects.
    const primitive = storablePrimitive(top, rootPath, limits, note) ?? null;
    charge(primitiveCost(primitive, limits) as number);
    return { value: { value: primitive }, length: length + 10 };
  }
  const rootContainer = open(top, undefined, rootPath, 1);
  if (rootContainer === undefined) return { value: {}, length: 2 };

  for (let task = stack.pop(); task !== undefined; task = stack.pop()) {
    const { source, parent, key } = task;
    if (exhausted) {
      parent.pendingKeys.push(key);
      continue;
    }
    const path: PathNode = { parent: parent.path, key: String(key) };
    const depth = parent.depth + 1;
    let replacement: string | undefined;
    if (depth > limits.maxDepth) {
      replacement = `[truncated: depth > ${limits.maxDepth}]`;
      note("depth", path);
    } else if (isAncestor(source as object, parent)) {
      replacement = "[circular]";
      note("unrepresentable", path);
    }
    if (replacement !== undefined) {
      if (charge(replacement.length + 2)) setMember(parent.copy, key, replacement);
      else parent.pendingKeys.push(key);
      continue;
    }
    const child = open(source as object, parent, path, depth);
    if (child === undefined) parent.pendingKeys.push(key);
    else setMember(parent.copy, key, child.copy);
  }

  for (const container of opened) cutPending(container, note);
  return { value: rootContainer.copy, length };
}

function readMember(source: object, key: string | number): unknown {
  try {
    return (source as Record<string | number, unknown>)[key];
  } catch (error) {
    return new UnreadableMember(error);
  }
}

/** Stands for a member whose getter threw; `toJsonValue` turns it into a marker. */
class UnreadableMember {
  constructor(readonly error: unknown) {}
}

/** Removes the members the budget left out and marks the container with how many. */
function cutPending(container: Container, note: Note): void {
  const { copy, pendingKeys, cutFrom, size } = container;
  if (pendingKeys.length === 0 && cutFrom === undefined) return;
  note("members", container.path);
  if (Array.isArray(copy)) {
    let kept = Math.min(cutFrom ?? size, copy.length);
    for (const index of pendingKeys) kept = Math.min(kept, index as number);
    copy.length = kept;
    copy.push(`[truncated: ${size - kept} more items]`);
    return;
  }
  for (const key of pendingKeys) delete copy[key as string];
  const removed = pendingKeys.length + (cutFrom === undefined ? 0 : size - cutFrom);
  // A source may use the marker's own name; its member then gives way to the marker.
  const markerKey =
    ["[truncated]", "[truncated]_1", "[truncated]_2"].find((key) => !Object.hasOwn(copy, key)) ??
    "[truncated]";
  copy[markerKey] = `${removed} more members`;
}

/** The value JSON would serialize in place of `value` (toJSON, boxed primitives, errors). */
function toJsonValue(
  value: unknown,
  key: string,
  path: PathNode,
  limits: StorableLimits,
  note: Note,
): unknown {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return value;
  try {
    if (value instanceof UnreadableMember) throw value.error;
    const toJSON = (value as { toJSON?: unknown }).toJSON;
    if (typeof toJSON === "function") return toJSON.call(value, key) as unknown;
    if (value instanceof Number || value instanceof String || value instanceof Boolean)
      return value.valueOf();
    if (value instanceof Error) {
      // JSON would keep none of it: name and message are not own enumerable properties.
      note("unrepresentable", path);
      return { name: value.name, message: value.message };
    }
    if (!isPlainContainer(value)) {
      note("unrepresentable", path);
      return { ...value }; // what JSON.stringify keeps of it: its own enumerable properties
    }
    return value;
  } catch (error) {
    note("unrepresentable", path);
    return truncateText(`[unreadable: ${error instanceof Error ? error.message : String(error)}]`, limits);
  }
}

/** A primitive as stored: `undefined` when JSON would leave it out (functions, symbols). */
function storablePrimitive(
  value: unknown,
  path: PathNode,
  limits: StorableLimits,
  note: Note,
): string | number | boolean | null | undefined {
  switch (typeof value) {
    case "string":
      return storableText(value, path, limits, note);
    case "number":
      if (Number.isFinite(value)) return value;
      note("unrepresentable", path);
      return null;
    case "boolean":
      return value;
    case "bigint":
      note("unrepresentable", path);
      return value.toString();
    case "undefined":
      return undefined;
    case "function":
    case "symbol":
      note("unrepresentable", path);
      return undefined;
    case "object":
      return null; // only null reaches here
  }
}

function storableText(text: string, path: PathNode, limits: StorableLimits, note: Note): string {
  let stored = text;
  if (!isStorableText(stored)) {
    stored = sanitizeText(stored);
    note("unrepresentable", path);
  }
  if (stored.length > limits.maxStringLength) {
    stored = truncateText(stored, limits);
    note("strings", path);
  }
  return stored;
}

/** A key as stored, distinct from the keys already copied (a cut or cleaned key may now clash). */
function storableKey(
  key: string,
  copy: unknown[] | Record<string, unknown>,
  limits: StorableLimits,
  path: PathNode,
  note: Note,
): string {
  const stored = storableText(key, path, limits, note);
  if (!Object.hasOwn(copy, stored)) return stored;
  for (let suffix = 2; ; suffix++) {
    const tag = `#${suffix}`;
    const candidate = stored.slice(0, limits.maxStringLength - tag.length) + tag;
    if (!Object.hasOwn(copy, candidate)) return candidate;
  }
}

function setMember(copy: unknown[] | Record<string, unknown>, key: string | number, value: unknown): void {
  if (Array.isArray(copy)) {
    copy[key as number] = value;
  } else if (key === "__proto__") {
    // Plain assignment would set the copy's prototype; JSON.parse makes it an own member too.
    Object.defineProperty(copy, key, { value, enumerable: true, writable: true, configurable: true });
  } else {
    copy[key as string] = value;
  }
}

function isAncestor(source: object, container: Container | undefined): boolean {
  for (let current = container; current !== undefined; current = current.parent) {
    if (current.source === source) return true;
  }
  return false;
}

/** JSON length of a primitive as stored, or why it cannot be stored. */
function primitiveCost(value: unknown, limits: StorableLimits): number | StorableProblemKind {
  switch (typeof value) {
    case "string":
      return textProblem(value, limits) ?? value.length + 2;
    case "number":
      return Number.isFinite(value) ? String(value).length : "unrepresentable";
    case "boolean":
      return value ? 4 : 5;
    case "object":
      return 4; // null
    default:
      return "unrepresentable";
  }
}

function textProblem(text: string, limits: StorableLimits): StorableProblemKind | undefined {
  if (text.length > limits.maxStringLength) return "string_length";
  return isStorableText(text) ? undefined : "text";
}

interface WellFormedText {
  isWellFormed(): boolean;
  toWellFormed(): string;
}

/** No NUL and no lone surrogate: text every store (PostgreSQL's jsonb included) can hold. */
export function isStorableText(text: string): boolean {
  return !text.includes("\u0000") && (text as unknown as WellFormedText).isWellFormed();
}

/** NUL and lone surrogates replaced by U+FFFD, the replacement character. */
function sanitizeText(text: string): string {
  return (text.replaceAll("\u0000", "\uFFFD") as unknown as WellFormedText).toWellFormed();
}

/** Cut to `maxStringLength` with a marker saying how long it was; never splits a surrogate pair. */
function truncateText(text: string, limits: StorableLimits): string {
  if (text.length <= limits.maxStringLength) return text;
  const marker = `…[truncated: ${text.length} chars]`;
  let end = Math.max(0, limits.maxStringLength - marker.length);
  const last = text.charCodeAt(end - 1);
  if (last >= 0xd800 && last <= 0xdbff) end -= 1;
  return text.slice(0, end) + marker;
}

function isContainer(value: unknown): value is object {
  return typeof value === "object" && value !== null;
}

function isPlainContainer(value: object): boolean {
  if (Array.isArray(value)) return true;
  const prototype: unknown = Object.getPrototypeOf(value);
  return prototype === Object.prototype || prototype === null;
}

function asObject(value: unknown): Record<string, unknown> {
  return value as Record<string, unknown>;
}

function compactReport(report: MutableReport): StorableReport {
  const compact: StorableReport = { paths: report.paths };
  if (report.depth > 0) compact.depth = report.depth;
  if (report.strings > 0) compact.strings = report.strings;
  if (report.members > 0) compact.members = report.members;
  if (report.unrepresentable > 0) compact.unrepresentable = report.unrepresentable;
  return compact;
}

/** `data.a.0.b`, keys cut to 40 characters, the whole to `MAX_PATH_LENGTH`, always storable text. */
function formatPath(node: PathNode): string {
  const keys: string[] = [];
  for (let current: PathNode | undefined = node; current !== undefined; current = current.parent) {
    keys.push(current.key.length > 40 ? `${current.key.slice(0, 40)}…` : current.key);
  }
  const path = keys.reverse().join(".");
  const cut = path.length <= MAX_PATH_LENGTH ? path : `…${path.slice(path.length - MAX_PATH_LENGTH + 1)}`;
  return isStorableText(cut) ? cut : sanitizeText(cut);
}

function failed(
  kind: StorableProblemKind,
  path: PathNode,
  value: unknown,
  limits: StorableLimits,
): StorableCheck {
  const where = formatPath(path);
  const messages: Record<StorableProblemKind, () => string> = {
    depth: () => `${where} is nested deeper than ${limits.maxDepth} levels (or is circular)`,
    string_length: () =>
      `${where} is a string of ${(value as string).length} characters, over ${limits.maxStringLength}`,
    event_length: () => `the event is longer than ${limits.maxEventLength} characters of JSON`,
    text: () => `${where} holds a NUL character or a lone surrogate, which PostgreSQL cannot store`,
    unrepresentable: () => `${where} is ${describe(value)}, not a JSON value`,
  };
  return { ok: false, problem: { kind, path: where, message: messages[kind]() } };
}

function eventTooLong(path: PathNode, budget: number): StorableCheck {
  return {
    ok: false,
    problem: {
      kind: "event_length",
      path: formatPath(path),
      message: `the event is longer than its budget of ${budget} characters of JSON`,
    },
  };
}

function describe(value: unknown): string {
  if (typeof value === "number") return String(value);
  if (typeof value !== "object" || value === null) return `a ${typeof value}`;
  const name = (Object.getPrototypeOf(value) as { constructor?: { name?: unknown } } | null)?.constructor
    ?.name;
  return `an instance of ${typeof name === "string" && name !== "" ? name : "an unknown class"}`;
}

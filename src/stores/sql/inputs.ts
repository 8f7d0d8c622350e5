import { AsmError } from "../../core/errors.js";
import { type EventType, isEventType } from "../../core/events.js";
import { SESSION_STATUSES, type SessionStatus } from "../../core/session.js";
import type { HealthCheckOptions, RetentionPolicy } from "../../ports/maintenance.js";
import type { EventSearch, SessionSearch, UsageFilter } from "../../ports/query-api.js";
import { DEFAULT_EVENT_PAGE, MAX_EVENT_PAGE } from "../../ports/session-store.js";
import { validationError } from "../shared/errors.js";
import { DEFAULT_LIST_LIMIT, MAX_LIST_LIMIT } from "../shared/records.js";
import { type CursorPosition, decodeCursor } from "./cursor.js";

/**
 * Checks and defaults for the QueryApi and Maintenance inputs. Typed callers can get little of
 * this wrong; JavaScript callers and JSON from a CLI or an HTTP request can. Bad values are
 * `validation_error` with the offending `field` in `details`.
 */

export const SESSION_ORDERS = ["created_desc", "created_asc", "updated_desc"] as const;
export type SessionOrder = (typeof SESSION_ORDERS)[number];
export const EVENT_ORDERS = ["timestamp_asc", "timestamp_desc"] as const;
export type EventOrder = (typeof EVENT_ORDERS)[number];

export interface NormalizedSessionSearch {
  agentId: string | undefined;
  statuses: SessionStatus[] | undefined;
  provider: string | undefined;
  /** Distinct; `undefined` when there is nothing to match. */
  tags: string[] | undefined;
  createdAfter: string | undefined;
  createdBefore: string | undefined;
  includeDeleted: boolean;
  orderBy: SessionOrder;
  limit: number;
  after: CursorPosition | undefined;
}

export function normalizeSessionSearch(search: SessionSearch = {}): NormalizedSessionSearch {
  const orderBy = oneOf(search.orderBy ?? "created_desc", SESSION_ORDERS, "orderBy");
  const status = search.status;
  return {
    agentId: optionalText(search.agentId, "agentId"),
    statuses:
      status === undefined
        ? undefined
        : nonEmptyList(typeof status === "string" ? [status] : status, "status").map((value) =>
            oneOf(value, SESSION_STATUSES, "status"),
          ),
    provider: optionalText(search.provider, "provider"),
    tags: optionalTags(search.tags),
    createdAfter: optionalTimestamp(search.createdAfter, "createdAfter"),
    createdBefore: optionalTimestamp(search.createdBefore, "createdBefore"),
    includeDeleted: optionalBoolean(search.includeDeleted, "includeDeleted") ?? false,
    orderBy,
    limit: pageLimit(search.limit, DEFAULT_LIST_LIMIT, MAX_LIST_LIMIT),
    after: search.cursor === undefined ? undefined : decodeCursor(search.cursor, orderBy),
  };
}

export interface NormalizedEventSearch {
  sessionIds: string[] | undefined;
  runIds: string[] | undefined;
  types: EventType[] | undefined;
  providers: string[] | undefined;
  since: string | undefined;
  until: string | undefined;
  orderBy: EventOrder;
  limit: number;
  after: CursorPosition | undefined;
}

export function normalizeEventSearch(search: EventSearch = {}): NormalizedEventSearch {
  const orderBy = oneOf(search.orderBy ?? "timestamp_asc", EVENT_ORDERS, "orderBy");
  return {
    sessionIds: optionalTextList(search.sessionIds, "sessionIds"),
    runIds: optionalTextList(search.runIds, "runIds"),
    types: search.types === undefined ? undefined : eventTypes(search.types),
    providers: optionalTextList(search.providers, "providers"),
    since: optionalTimestamp(search.since, "since"),
    until: optionalTimestamp(search.until, "until"),
    orderBy,
    limit: pageLimit(search.limit, DEFAULT_EVENT_PAGE, MAX_EVENT_PAGE),
    after: search.cursor === undefined ? undefined : decodeCursor(search.cursor, orderBy),
  };
}

export interface NormalizedUsageFilter {
  sessionId: string | undefined;
  agentId: string | undefined;
  provider: string | undefined;
  since: string | undefined;
  until: string | undefined;
}

export function normalizeUsageFilter(filter: UsageFilter = {}): NormalizedUsageFilter {
  return {
    sessionId: optionalText(filter.sessionId, "sessionId"),
    agentId: optionalText(filter.agentId, "agentId"),
    provider: optionalText(filter.provider, "provider"),
    since: optionalTimestamp(filter.since, "since"),
    until: optionalTimestamp(filter.until, "until"),
  };
}

/** Tags exempt from soft deletion when a policy does not say. */
export const DEFAULT_EXEMPT_TAGS: readonly string[] = ["pinned"];

export interface NormalizedRetentionPolicy {
  maxAgeDays: [SessionStatus, number][];
  exemptTags: string[];
  hardDeleteAfterDays: number | undefined;
  pruneEvents: { types: EventType[]; keepLast: number } | undefined;
}

export function normalizeRetentionPolicy(policy: RetentionPolicy): NormalizedRetentionPolicy {
  if (typeof policy !== "object" || policy === null) {
    throw validationError("the retention policy must be an object", { field: "policy", value: policy });
  }
  const maxAgeDays: [SessionStatus, number][] = [];
  if (policy.maxAgeDays !== undefined) {
    if (typeof policy.maxAgeDays !== "object" || policy.maxAgeDays === null) {
      throw validationError("maxAgeDays must map session statuses to days", {
        field: "maxAgeDays",
        value: policy.maxAgeDays,
      });
    }
    for (const [status, days] of Object.entries(policy.maxAgeDays)) {
      if (days === undefined) continue;
      maxAgeDays.push([
        oneOf(status, SESSION_STATUSES, "maxAgeDays"),
        dayCount(days, `maxAgeDays.${status}`),
      ]);
    }
  }
  const exemptTags = policy.exemptTags === undefined ? [...DEFAULT_EXEMPT_TAGS] : tagList(policy.exemptTags);
  const prune = policy.pruneEvents;
  let pruneEvents: NormalizedRetentionPolicy["pruneEvents"];
  if (prune !== undefined) {
    if (typeof prune !== "object" || prune === null) {
      throw validationError("pruneEvents must be { types, keepLast }", {
        field: "pruneEvents",
        value: prune,
      });
    }
    // At least one: the newest event of the session is then never pruned, so the session's
    // sequence counter always equals its highest stored sequence (the health check relies on it).
    if (!Number.isInteger(prune.keepLast) || prune.keepLast < 1) {
      throw validationError("pruneEvents.keepLast must be a positive integer", {
        field: "pruneEvents.keepLast",
        value: prune.keepLast,
      });
    }
    pruneEvents = { types: eventTypes(prune.types, "pruneEvents.types"), keepLast: prune.keepLast };
  }
  return {
    maxAgeDays,
    exemptTags,
    hardDeleteAfterDays:
      policy.hardDeleteAfterDays === undefined
        ? undefined
        : dayCount(policy.hardDeleteAfterDays, "hardDeleteAfterDays"),
    pruneEvents,
  };
}

/** Runs `running` longer than this are stuck when `healthCheck` is not told otherwise: 1 hour. */
export const DEFAULT_STUCK_AFTER_MS = 60 * 60 * 1000;

export function normalizeHealthCheckOptions(options: HealthCheckOptions = {}): { stuckAfterMs: number } {
  const stuckAfterMs = options.stuckAfterMs ?? DEFAULT_STUCK_AFTER_MS;
  if (typeof stuckAfterMs !== "number" || !Number.isFinite(stuckAfterMs) || stuckAfterMs < 0) {
    throw validationError("stuckAfterMs must be a non-negative number", {
      field: "stuckAfterMs",
      value: stuckAfterMs,
    });
  }
  return { stuckAfterMs };
}

function oneOf<T extends string>(value: unknown, allowed: readonly T[], field: string): T {
  const match = allowed.find((candidate) => candidate === value);
  if (match === undefined) {
    throw validationError(`${field} must be one of ${allowed.join(", ")}`, { field, value });
  }
  return match;
}

function optionalText(value: unknown, field: string): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== "string" || value === "") {
    throw validationError(`${field} must be a non-empty string`, { field, value });
  }
  return value;
}

function optionalBoolean(value: unknown, field: string): boolean | undefined {
  if (value === undefined || typeof value === "boolean") return value;
  throw validationError(`${field} must be a boolean`, { field, value });
}

/** An empty list could only ever match nothing: almost always a caller bug, so it is refused. */
function nonEmptyList(value: unknown, field: string): unknown[] {
  if (!Array.isArray(value) || value.length === 0) {
    throw validationError(`${field} must be a non-empty array`, { field, value });
  }
  return value;
}

function optionalTextList(value: unknown, field: string): string[] | undefined {
  if (value === undefined) return undefined;
  const list = nonEmptyList(value, field);
  const items = list.filter((item): item is string => typeof item === "string" && item !== "");
  if (items.length !== list.length) {
    throw validationError(`${field} must be an array of non-empty strings`, { field, value });
  }
  return [...new Set(items)];
}

function tagList(value: unknown, field = "exemptTags"): string[] {
  if (!Array.isArray(value) || !value.every((tag) => typeof tag === "string")) {
    throw validationError(`${field} must be an array of strings`, { field, value });
  }
  return [...new Set<string>(value)];
}

/** Every session carries all of no tags: an empty list filters nothing. */
function optionalTags(value: unknown): string[] | undefined {
  if (value === undefined) return undefined;
  const tags = tagList(value, "tags");
  return tags.length === 0 ? undefined : tags;
}

/** Normalized by `toISOString`, the form timestamps are stored in, so they compare as stored. */
function optionalTimestamp(value: unknown, field: string): string | undefined {
  if (value === undefined) return undefined;
  const time = typeof value === "string" ? Date.parse(value) : Number.NaN;
  if (Number.isNaN(time)) throw validationError(`${field} must be an ISO 8601 date`, { field, value });
  return new Date(time).toISOString();
}

function pageLimit(value: unknown, fallback: number, max: number): number {
  const limit = value ?? fallback;
  if (typeof limit !== "number" || !Number.isInteger(limit) || limit < 1 || limit > max) {
    throw validationError(`limit must be an integer from 1 to ${max}`, { field: "limit", value: limit, max });
  }
  return limit;
}

function dayCount(value: unknown, field: string): number {
  if (typeof value !== "number" || !Number.isFinite(value) || value < 0) {
    throw validationError(`${field} must be a non-negative number of days`, { field, value });
  }
  return value;
}

function eventTypes(value: unknown, field = "types"): EventType[] {
  const distinct = new Set<EventType>();
  for (const type of nonEmptyList(value, field)) {
    if (!isEventType(type)) {
      throw new AsmError("invalid_event_type", `unknown event type ${JSON.stringify(type)}`, {
        details: { field, type },
      });
    }
    distinct.add(type);
  }
  return [...distinct];
}

import type { HttpBindings } from "@hono/node-server";
import { AsmError } from "../../core/errors.js";
import type { EventType } from "../../core/events.js";
import { defineRoute, type Route } from "../route.js";
import { eventsQuery, sessionParams, streamQuery } from "../schemas.js";
import type { ServerContext } from "./context.js";

export function eventRoutes(ctx: ServerContext): Route[] {
  return [
    defineRoute({
      method: "get",
      path: "/api/v1/sessions/:sessionId/events",
      tag: "events",
      summary:
        "A page of the session's log after a cursor; with waitTimeoutMs, a long-poll that answers when an event arrives",
      params: sessionParams,
      query: eventsQuery,
      handle: async ({ params, query, c }) => {
        const after = query.after ?? 0;
        const items = await ctx.store.getEvents(params.sessionId, {
          after,
          ...(query.limit !== undefined ? { limit: query.limit } : {}),
          ...(query.types ? { types: query.types as EventType[] } : {}),
          ...(query.runId ? { runId: query.runId } : {}),
          ...(query.waitTimeoutMs ? { waitTimeoutMs: query.waitTimeoutMs, signal: c.req.raw.signal } : {}),
        });
        if (items.length === 0) await ctx.store.getSession(params.sessionId);
        // The cursor of the next page: the last sequence of this one, else where this one started.
        return { items, cursor: items.at(-1)?.sequence ?? after };
      },
    }),
    defineRoute({
      method: "get",
      path: "/api/v1/sessions/:sessionId/events/stream",
      tag: "events",
      summary:
        "Server-sent events: each stored event with id = its sequence, from Last-Event-ID (or ?after=); heartbeats; ends when the session ends (204 when it has ended and nothing is left)",
      params: sessionParams,
      query: streamQuery,
      produces: "text/event-stream",
      handle: async ({ params, query, c }) => {
        const header = c.req.header("last-event-id");
        let after = query.after ?? 0;
        // The header wins: it is what a reconnecting EventSource sends, with the URL it first used.
        if (header !== undefined) after = parseLastEventId(header);
        return ctx.streams.open({
          sessionId: params.sessionId,
          after,
          ...(query.types ? { types: query.types } : {}),
          ...(query.runId ? { runId: query.runId } : {}),
          dropConnection: () => (c.env as Partial<HttpBindings> | undefined)?.outgoing?.destroy(),
        });
      },
    }),
  ];
}

/** A `Last-Event-ID` as a cursor: a sequence this API sent (a non-negative integer), else `invalid_cursor`. */
export function parseLastEventId(value: string): number {
  const trimmed = value.trim();
  if (!/^\d{1,15}$/.test(trimmed)) {
    throw new AsmError("invalid_cursor", "Last-Event-ID is not an event sequence", {
      details: { lastEventId: value.slice(0, 100) },
      hint: "send the id of the last event received from this stream, or none to start over",
    });
  }
  return Number(trimmed);
}

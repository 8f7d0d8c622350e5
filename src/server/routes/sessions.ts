import { AsmError } from "../../core/errors.js";
import type { JsonObject } from "../../core/session.js";
import { defineRoute, type Route } from "../route.js";
import { createSessionBody, listSessionsQuery, reasonBody, sessionParams, usageQuery } from "../schemas.js";
import type { ServerContext } from "./context.js";

export function sessionRoutes(ctx: ServerContext): Route[] {
  return [
    defineRoute({
      method: "get",
      path: "/api/v1/sessions",
      tag: "sessions",
      summary: "List or search sessions (filters, newest first by default, cursor paging)",
      query: listSessionsQuery,
      handle: async ({ query }) => {
        const { status, tags, ...rest } = query;
        const page = await ctx.store.query.searchSessions({
          ...definedOnly(rest),
          ...(status ? { status } : {}),
          ...(tags ? { tags } : {}),
        });
        return { items: page.items, ...(page.nextCursor ? { nextCursor: page.nextCursor } : {}) };
      },
    }),
    defineRoute({
      method: "post",
      path: "/api/v1/sessions",
      tag: "sessions",
      summary: "Create a session (active, with its SessionServer started)",
      body: createSessionBody,
      status: 201,
      handle: async ({ body }) => {
        assertOpen(ctx);
        const server = await ctx.registry.create({
          ...definedOnly(body),
          ...(body.metadata ? { metadata: body.metadata as JsonObject } : {}),
          ...(body.context ? { context: body.context as JsonObject } : {}),
        });
        return ctx.store.getSession(server.sessionId);
      },
    }),
    defineRoute({
      method: "get",
      path: "/api/v1/sessions/:sessionId",
      tag: "sessions",
      summary: "A session with its stats (runs, events, tokens, cost) and its server's queue",
      params: sessionParams,
      handle: async ({ params }) => {
        const [session, stats] = await Promise.all([
          ctx.store.getSession(params.sessionId),
          ctx.store.query.getSessionStats(params.sessionId),
        ]);
        const server = ctx.registry.lookup(params.sessionId);
        return { session, stats, ...(server ? { server: server.status() } : {}) };
      },
    }),
    defineRoute({
      method: "post",
      path: "/api/v1/sessions/:sessionId/complete",
      tag: "sessions",
      summary: "Complete a session once its queued and running runs are done (409 otherwise)",
      params: sessionParams,

      handle: async ({ params }) => {
        const server = ctx.registry.lookup(params.sessionId);
        const status = server?.status();
        if (status && status.inFlightCount + status.queuedCount > 0) {
          throw new AsmError(
            "invalid_operation",
            `session ${params.sessionId} still has runs queued or running`,
            {
              details: {
                sessionId: params.sessionId,
                inFlightRuns: status.inFlightRuns,
                queuedRuns: status.queuedRuns,
              },
              hint: "await or cancel them first, or cancel the session",
            },
          );
        }
        await server?.close();
        return ctx.manager.completeSession(params.sessionId);
      },
    }),
    defineRoute({
      method: "post",
      path: "/api/v1/sessions/:sessionId/cancel",
      tag: "sessions",
      summary: "Cancel a session and every run of it that has not ended",
      params: sessionParams,
      body: reasonBody,
      handle: async ({ params, body }) => {
        // Closing the server cancels its runs in flight; the queued ones stay pending in the
        // store, where cancelSession cancels them.
        await ctx.registry.lookup(params.sessionId)?.close();
        return ctx.manager.cancelSession(params.sessionId, body.reason);
      },
    }),
    defineRoute({
      method: "get",
      path: "/api/v1/usage",
      tag: "usage",
      summary: "Usage and cost of runs, in total and by provider and model",
      query: usageQuery,
      handle: async ({ query }) => ctx.store.query.getUsageSummary(definedOnly(query)),
    }),
    defineRoute({
      method: "get",
      path: "/api/v1/sessions/:sessionId/usage",
      tag: "usage",
      summary: "Usage and cost of a session's runs",
      params: sessionParams,
      handle: async ({ params }) => {
        await ctx.store.getSession(params.sessionId);
        return ctx.store.query.getUsageSummary({ sessionId: params.sessionId });
      },
    }),
  ];
}

/** Refuses new work once shutdown began. */
export function assertOpen(ctx: ServerContext): void {
  if (ctx.shuttingDown) {
    throw new AsmError("invalid_operation", "the server is shutting down", {
      hint: "retry on the next server",
    });
  }
}

/** The object without its `undefined` values (exactOptionalPropertyTypes). */
export function definedOnly<T extends object>(value: T): { [K in keyof T]: Exclude<T[K], undefined> } {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as {
    [K in keyof T]: Exclude<T[K], undefined>;
  };
}

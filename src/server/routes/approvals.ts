import { defineRoute, type Route } from "../route.js";
import { approvalParams, approveBody, denyBody, sessionParams } from "../schemas.js";
import type { ServerContext } from "./context.js";
import { definedOnly } from "./sessions.js";

export function approvalRoutes(ctx: ServerContext): Route[] {
  return [
    defineRoute({
      method: "get",
      path: "/api/v1/sessions/:sessionId/approvals",
      tag: "approvals",
      summary: "The session's pending approval requests, oldest first (expired ones left out)",
      params: sessionParams,
      handle: async ({ params }) => {
        await ctx.store.getSession(params.sessionId);
        return { items: await ctx.approvals.pending(params.sessionId) };
      },
    }),
    defineRoute({
      method: "post",
      path: "/api/v1/sessions/:sessionId/approvals/:approvalId/approve",
      tag: "approvals",
      summary: "Grant a request; decidedNow is false when it was decided before (or expired)",
      params: approvalParams,
      body: approveBody,
      handle: async ({ params, body }) =>
        ctx.approvals.approve(params.sessionId, params.approvalId, definedOnly(body)),
    }),
    defineRoute({
      method: "post",
      path: "/api/v1/sessions/:sessionId/approvals/:approvalId/deny",
      tag: "approvals",
      summary: "Deny a request; decidedNow is false when it was decided before (or expired)",
      params: approvalParams,
      body: denyBody,
      handle: async ({ params, body }) =>
        ctx.approvals.deny(params.sessionId, params.approvalId, definedOnly(body)),
    }),
  ];
}

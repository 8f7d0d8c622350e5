import { realpath } from "node:fs/promises";
import { isAbsolute, relative, resolve, sep } from "node:path";
import type { z } from "zod";
import type { CapabilityRequirement } from "../../core/capabilities.js";
import { AsmError } from "../../core/errors.js";
import { isTerminalRunStatus, type Run, type RunInput } from "../../core/run.js";
import type { JsonObject } from "../../core/session.js";
import type { SubmitRunOptions } from "../../runtime/session-server.js";
import { defineRoute, type Route } from "../route.js";
import {
  awaitRunQuery,
  listRunsQuery,
  reasonBody,
  runParams,
  sessionParams,
  submitRunBody,
} from "../schemas.js";
import type { ServerContext } from "./context.js";
import { assertOpen, definedOnly } from "./sessions.js";

/** Default wait of `…/await` without `timeoutMs`. */
const DEFAULT_AWAIT_MS = 30_000;

export function runRoutes(ctx: ServerContext): Route[] {
  return [
    defineRoute({
      method: "get",
      path: "/api/v1/sessions/:sessionId/runs",
      tag: "runs",
      summary: "A session's runs, oldest first",
      params: sessionParams,
      query: listRunsQuery,
      handle: async ({ params, query }) => {
        await ctx.store.getSession(params.sessionId);
        return { items: await ctx.store.listRuns(params.sessionId, definedOnly(query)) };
      },
    }),
    defineRoute({
      method: "post",
      path: "/api/v1/sessions/:sessionId/runs",
      tag: "runs",
      summary: "Submit a run to the session's SessionServer (queued; 202 with its id)",
      params: sessionParams,
      body: submitRunBody,
      status: 202,
      handle: async ({ params, body }) => {
        assertOpen(ctx);
        const options = await submitOptions(ctx, body);
        const server = await ctx.registry.get(params.sessionId);
        const runId = await server.submitRun(body.input as RunInput | string, options);
        return { runId, run: await ctx.store.getRun(runId) };
      },
    }),
    defineRoute({
      method: "get",
      path: "/api/v1/sessions/:sessionId/runs/:runId",
      tag: "runs",
      summary: "A run as stored",
      params: runParams,
      handle: async ({ params }) => sessionRun(ctx, params.sessionId, params.runId),
    }),
    defineRoute({
      method: "get",
      path: "/api/v1/sessions/:sessionId/runs/:runId/await",
      tag: "runs",
      summary: "Long-poll: the run once it ended (done: true) or after timeoutMs (done: false)",
      params: runParams,
      query: awaitRunQuery,
      handle: async ({ params, query, c }) => {
        const run = await sessionRun(ctx, params.sessionId, params.runId);
        if (isTerminalRunStatus(run.status)) return { done: true, run };
        const server = await ctx.registry.get(params.sessionId);
        const timeoutMs = query.timeoutMs ?? DEFAULT_AWAIT_MS;
        const gone = new Promise<void>((resolveGone) =>
          c.req.raw.signal.addEventListener("abort", () => resolveGone(), { once: true }),
        );
        // A run that fails rejects awaitRun with its error: the stored run says it all the same.
        await Promise.race([server.awaitRun(params.runId, { timeoutMs }).catch(() => undefined), gone]);
        const after = await ctx.store.getRun(params.runId);
        return { done: isTerminalRunStatus(after.status), run: after };
      },
    }),
    defineRoute({
      method: "post",
      path: "/api/v1/sessions/:sessionId/runs/:runId/cancel",
      tag: "runs",
      summary: "Cancel a queued or running run (an ended one is returned as it is)",
      params: runParams,
      body: reasonBody,
      handle: async ({ params, body }) => {
        await sessionRun(ctx, params.sessionId, params.runId);
        const server = await ctx.registry.get(params.sessionId);
        return server.cancelRun(params.runId, body.reason);
      },
    }),
    defineRoute({
      method: "post",
      path: "/api/v1/sessions/:sessionId/runs/:runId/interrupt",
      tag: "runs",
      summary: "Interrupt a run (the provider's native interrupt when it has one, else a cancel)",
      params: runParams,
      body: reasonBody,
      handle: async ({ params, body }) => {
        await sessionRun(ctx, params.sessionId, params.runId);
        const server = await ctx.registry.get(params.sessionId);
        return server.interruptRun(params.runId, body.reason);
      },
    }),
  ];
}

/** The run, when it belongs to the session; else `run_not_found`. */
async function sessionRun(ctx: ServerContext, sessionId: string, runId: string): Promise<Run> {
  await ctx.store.getSession(sessionId);
  const run = await ctx.store.getRun(runId);
  if (run.sessionId !== sessionId) {
    throw new AsmError("run_not_found", `run ${runId} is not a run of session ${sessionId}`, {
      details: { sessionId, runId },
    });
  }
  return run;
}

/** The request's run options as `submitRun` takes them: `provider` and `model` placed in `providerOptions`. */
async function submitOptions(
  ctx: ServerContext,
  body: z.output<typeof submitRunBody>,
): Promise<SubmitRunOptions> {
  const { input: _input, provider, model, workspace, providerOptions, metadata, ...rest } = body;
  const adapterName = ctx.manager.adapter.name;
  const namespaces: Record<string, JsonObject> = {
    ...(providerOptions as Record<string, JsonObject> | undefined),
  };
  if (provider !== undefined && provider !== adapterName) {
    if (adapterName !== "router") {
      throw new AsmError("provider_not_found", `this server runs ${adapterName}, not ${provider}`, {
        details: { provider, available: [adapterName] },
        hint: `omit provider, or give "${adapterName}"`,
      });
    }
    namespaces.router = { ...namespaces.router, prefer: [provider] };
  }
  if (model !== undefined) {
    const target = provider ?? adapterName;
    namespaces[target] = { ...namespaces[target], model };
  }
  return {
    ...(definedOnly(rest) as SubmitRunOptions),
    ...(rest.requiredCapabilities
      ? { requiredCapabilities: rest.requiredCapabilities as CapabilityRequirement[] }
      : {}),
    ...(rest.optionalCapabilities
      ? { optionalCapabilities: rest.optionalCapabilities as CapabilityRequirement[] }
      : {}),
    ...(metadata ? { metadata: metadata as JsonObject } : {}),
    ...(Object.keys(namespaces).length > 0 ? { providerOptions: namespaces } : {}),
    ...(workspace
      ? { workspace: { ...workspace, path: await workspacePath(ctx.workspaceRoots, workspace.path) } }
      : {}),
  } as SubmitRunOptions;
}

/**
 * The workspace's real path, when it is inside one of the server's roots (after resolving
 * symlinks); otherwise `validation_error`. Relative paths resolve against the first root.
 */
export async function workspacePath(roots: readonly string[], path: string): Promise<string> {
  const refuse = (why: string): AsmError =>
    new AsmError("validation_error", `workspace.path ${why}`, {
      details: { path },
      hint: "start asm serve with --workspace-root <dir> and give a path inside it",
    });
  const [first] = roots;
  if (first === undefined) throw refuse("is not accepted: the server has no workspace root");
  const inside = (candidate: string) =>
    roots.some((root) => {
      const rel = relative(root, candidate);
      return rel === "" || (!rel.startsWith(`..${sep}`) && rel !== ".." && !isAbsolute(rel));
    });
  const lexical = resolve(isAbsolute(path) ? path : resolve(first, path));
  if (!inside(lexical)) throw refuse("is outside the server's workspace roots");
  const real = await realpath(lexical).catch(() => {
    throw refuse("does not exist");
  });
  if (!inside(real)) throw refuse("leads outside the server's workspace roots");
  return real;
}

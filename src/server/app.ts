import { Hono } from "hono";
import { bodyLimit } from "hono/body-limit";
import { cors } from "hono/cors";
import { AsmError } from "../core/errors.js";
import type { SessionManagerBase } from "../manager/session-manager.js";
import { ApprovalGate } from "../policy/approvals.js";
import type { DurableSessionStore } from "../ports/durable-store.js";
import { SessionServerRegistry } from "../runtime/server-registry.js";
import { bearerAuth } from "./auth.js";
import { loadDashboard } from "./dashboard.js";
import { errorResponse, HttpError } from "./errors-to-http.js";
import { openApiDocument } from "./openapi.js";
import { type Route, runRoute } from "./route.js";
import { approvalRoutes } from "./routes/approvals.js";
import type { ServerContext } from "./routes/context.js";
import { eventRoutes } from "./routes/events.js";
import { runRoutes } from "./routes/runs.js";
import { sessionRoutes } from "./routes/sessions.js";
import { type EventStreamOptions, EventStreams } from "./sse.js";

/** One line of the request log. */
export interface RequestLogEntry {
  time: string;
  method: string;
  path: string;
  status: number;
  /** Until the response started (for a stream: until its headers). */
  durationMs: number;
}

/** What serves `/` and every path outside the API: the web dashboard, when there is one. */
export interface StaticMount {
  fetch(request: Request): Response | Promise<Response>;
}

export interface ApiAppOptions {
  /** Runs the sessions' runs; its store must be a durable one (with `query`). */
  manager: SessionManagerBase;
  /** The session servers runs are submitted through. Default: a registry over `manager`. */
  registry?: SessionServerRegistry;
  /**
   * Require `Authorization: Bearer <token>` on `/api/*` and `/openapi.json`. Default: none (only
   * for a loopback dev server — `startApiServer` refuses anything else).
   */
  token?: string;
  /** Origins allowed by CORS, e.g. `["http://localhost:5173"]`. Default: none (CORS off). */
  corsOrigins?: string[];
  /** Largest request body in bytes; a larger one is 413 `payload_too_large`. Default 1048576 (1 MiB). */
  maxBodyBytes?: number;
  /** SSE stream settings. Default: see `EventStreamOptions`. */
  streams?: EventStreamOptions;
  /**
   * Directories a run's `workspace.path` may name (inside them, symlinks resolved). Default: none,
   * and a run with a `workspace` option is refused.
   */
  workspaceRoots?: string[];
  /** Called once per request. Default: nothing logged. */
  onRequest?: (entry: RequestLogEntry) => void;
  /**
   * Serves `/` and every path outside `/api/`, `/openapi.json`, `/healthz`, `/readyz` (the dashboard's mount point).
   * Default: the web dashboard built into dist/dashboard (`loadDashboard()`), 404 when it was not built; `false`: 404.
   */
  dashboard?: StaticMount | false;
}

export interface ShutdownOptions {
  /** How long to let queued and running runs finish before they are cancelled (ms). Default 10000. */
  drainTimeoutMs?: number;
}

/** The API as a Hono app, and how to shut it down. */
export interface ApiApp {
  readonly app: Hono;
  /** The routes, in registration order (the OpenAPI document lists them). */
  readonly routes: readonly Route[];
  readonly streams: EventStreams;
  readonly registry: SessionServerRegistry;
  /**
   * Stops taking work (readiness fails, new sessions and runs are refused), ends every SSE stream
   * with a final comment, lets runs finish for `drainTimeoutMs`, then closes every session
   * server (runs still going are cancelled; queued ones stay queued for the next server). Idempotent.
   */
  close(options?: ShutdownOptions): Promise<void>;
}

const VERSION = "0.1.0";

/** Builds the HTTP API: sessions, runs, events (pages, long-polls, SSE), usage, approvals, health, OpenAPI. */
export function createApiApp(options: ApiAppOptions): ApiApp {
  const store = options.manager.store as DurableSessionStore;
  if (typeof (store as Partial<DurableSessionStore>).query !== "object") {
    throw new AsmError(
      "validation_error",
      "the API needs a durable store (SQLite or PostgreSQL) for its queries",
      {
        hint: "open the store with openStore / openDurableStore",
      },
    );
  }
  const registry = options.registry ?? new SessionServerRegistry({ manager: options.manager });
  const streams = new EventStreams(store, options.streams);
  let shuttingDown = false;
  const context: ServerContext = {
    manager: options.manager,
    store,
    registry,
    approvals: new ApprovalGate(store),
    streams,
    workspaceRoots: options.workspaceRoots ?? [],
    get shuttingDown() {
      return shuttingDown;
    },
  };
  const routes = [
    ...sessionRoutes(context),
    ...runRoutes(context),
    ...eventRoutes(context),
    ...approvalRoutes(context),
  ];
  const document = openApiDocument(routes, { title: "agent-session-manager API", version: VERSION });

  const app = new Hono();
  app.onError((error, c) => {
    const { status, body } = errorResponse(error);
    if (body.code === "unauthorized") c.header("www-authenticate", 'Bearer realm="asm"');
    return c.json(body, status as 400);
  });
  app.notFound((c) =>
    c.json({ code: "not_found", message: `no route for ${c.req.method} ${c.req.path}` }, 404),
  );

  if (options.onRequest) {
    const log = options.onRequest;
    app.use(async (c, next) => {
      const started = performance.now();
      await next();
      log({
        time: new Date().toISOString(),
        method: c.req.method,
        path: c.req.path,
        status: c.res.status,
        durationMs: Math.round((performance.now() - started) * 10) / 10,
      });
    });
  }
  if (options.corsOrigins && options.corsOrigins.length > 0) {
    app.use(
      "/api/*",
      cors({
        origin: options.corsOrigins,
        allowHeaders: ["authorization", "content-type", "last-event-id"],
        allowMethods: ["GET", "POST"],
      }),
    );
  }
  if (options.token !== undefined) {
    const guard = bearerAuth(options.token);
    app.use("/api/*", guard);
    app.use("/openapi.json", guard);
  }
  const maxSize = options.maxBodyBytes ?? 1_048_576;
  app.use(
    "/api/*",
    bodyLimit({
      maxSize,
      onError: () => {
        throw new HttpError("payload_too_large", `the body is over ${maxSize} bytes`, undefined, {
          limitBytes: maxSize,
        });
      },
    }),
  );

  app.get("/healthz", (c) => c.json({ status: "ok" }));
  app.get("/readyz", async (c) => {
    if (shuttingDown) return c.json({ status: "shutting_down" }, 503);
    try {
      await store.listSessions({ limit: 1 });
      return c.json({
        status: "ready",
        sessionServers: registry.sessionIds().length,
        streams: streams.count,
      });
    } catch (error) {
      return c.json({ status: "store_unavailable", error: errorResponse(error).body }, 503);
    }
  });
  app.get("/openapi.json", (c) => c.json(document));
  for (const route of routes) app.on(route.method.toUpperCase(), route.path, (c) => runRoute(route, c));
  // Anything else under /api/ is the API's 404, never the dashboard's.
  app.all("/api/*", (c) =>
    c.json({ code: "not_found", message: `no route for ${c.req.method} ${c.req.path}` }, 404),
  );
  const dashboard = options.dashboard === undefined ? loadDashboard() : options.dashboard || undefined;
  if (dashboard) {
    app.get("*", (c) => dashboard.fetch(c.req.raw));
  }

  let closing: Promise<void> | undefined;
  const close = (shutdown: ShutdownOptions = {}): Promise<void> => {
    closing ??= (async () => {
      shuttingDown = true;
      streams.closeAll("server shutting down");
      const drainTimeoutMs = shutdown.drainTimeoutMs ?? 10_000;
      await Promise.all(
        registry.sessionIds().map(async (sessionId) => {
          await registry
            .lookup(sessionId)
            ?.drain({ timeoutMs: drainTimeoutMs })
            .catch(() => undefined);
        }),
      );
      await registry.closeAll();
    })();
    return closing;
  };

  return { app, routes, streams, registry, close };
}

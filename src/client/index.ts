// Runs in Node (>= 20) and browsers: fetch, web streams and TextDecoder only; every import from
// the library is a type.

import type { z } from "zod";
import type { AsmEvent, EventType } from "../core/events.js";
import type { Run, RunStatus } from "../core/run.js";
import type { Session, SessionStatus } from "../core/session.js";
import type { ApprovalRequest, DecisionResult } from "../policy/approvals.js";
import type { SessionStats, UsageFilter, UsageSummary } from "../ports/query-api.js";
import type { SessionServerStatus } from "../runtime/session-server.js";
import type { ApiErrorBody, ApiErrorCode } from "../server/errors-to-http.js";
import type { createSessionBody, submitRunBody } from "../server/schemas.js";
import { SseParser } from "./sse-parser.js";

export { type SseMessage, SseParser } from "./sse-parser.js";
export type { ApiErrorBody, ApiErrorCode };

export interface AsmClientOptions {
  /** Where `asm serve` listens, e.g. `http://127.0.0.1:7411`. */
  baseUrl: string;
  /** Sent as `Authorization: Bearer <token>`. Default: none (a `--dev` server). */
  token?: string;
  /** The fetch to use. Default: `globalThis.fetch`. */
  fetch?: typeof fetch;
}

/** An error response of the API, with its status and `{code, message, hint}`. */
export class AsmApiError extends Error {
  override readonly name = "AsmApiError";
  readonly status: number;
  readonly code: ApiErrorCode;
  readonly hint: string | undefined;
  readonly details: Record<string, unknown> | undefined;

  constructor(status: number, body: ApiErrorBody) {
    super(body.message);
    this.status = status;
    this.code = body.code;
    this.hint = body.hint;
    this.details = body.details;
  }
}

export interface Page<T> {
  items: T[];
  nextCursor?: string;
}

export interface ListSessionsQuery {
  status?: SessionStatus | SessionStatus[];
  agentId?: string;
  provider?: string;
  tags?: string[];
  createdAfter?: string;
  createdBefore?: string;
  orderBy?: "created_desc" | "created_asc" | "updated_desc";
  /** Default 50, at most 1000. */
  limit?: number;
  cursor?: string;
}

export type CreateSessionInput = z.input<typeof createSessionBody>;
export type SubmitRunInput = z.input<typeof submitRunBody>;

export interface SessionDetail {
  session: Session;
  stats: SessionStats;
  /** The session's server queue, when a server is open on it. */
  server?: SessionServerStatus;
}

export interface AwaitedRun {
  /** Whether the run ended; `false` when the wait timed out first. */
  done: boolean;
  run: Run;
}

export interface EventPageQuery {
  /** Events with `sequence > after`. Default 0. */
  after?: number;
  /** Default 100, at most 1000. */
  limit?: number;
  types?: EventType[];
  runId?: string;
  /** Long-poll: wait up to this long (ms, at most 120000) for a first matching event. Default 0. */
  waitTimeoutMs?: number;
  signal?: AbortSignal;
}

export interface EventPage {
  items: AsmEvent[];
  /** Give it as `after` for the next page. */
  cursor: number;
}

export interface EventStreamOptions {
  /** Events with `sequence > after`. Default 0: the whole log. */
  after?: number;
  types?: EventType[];
  runId?: string;
  /** Ends the iteration (it returns normally). */
  signal?: AbortSignal;
  /** Wait before a reconnect (ms). Default 1000. */
  reconnectDelayMs?: number;
  /**
   * Reconnects in a row that may fail (no event received in between) before the iteration
   * throws the last error. Default 10.
   */
  maxFailedReconnects?: number;
  /** Called before each reconnect, with the cursor it resumes from. */
  onReconnect?: (info: { after: number; attempt: number; error?: unknown }) => void;
}

/** A typed client of the `asm serve` API. */
export class AsmClient {
  readonly #baseUrl: string;
  readonly #token: string | undefined;
  readonly #fetch: typeof fetch;

  constructor(options: AsmClientOptions) {
    this.#baseUrl = options.baseUrl.replace(/\/+$/, "");
    this.#token = options.token;
    this.#fetch = options.fetch ?? globalThis.fetch.bind(globalThis);
  }

  listSessions(query: ListSessionsQuery = {}): Promise<Page<Session>> {
    return this.#get("/api/v1/sessions", query);
  }
  createSession(input: CreateSessionInput): Promise<Session> {
    return this.#post("/api/v1/sessions", input);
  }
  getSession(sessionId: string): Promise<SessionDetail> {
    return this.#get(`/api/v1/sessions/${id(sessionId)}`);
  }
  completeSession(sessionId: string): Promise<Session> {
    return this.#post(`/api/v1/sessions/${id(sessionId)}/complete`, {});
  }
  cancelSession(sessionId: string, reason?: string): Promise<Session> {
    return this.#post(`/api/v1/sessions/${id(sessionId)}/cancel`, reason ? { reason } : {});
  }

  listRuns(sessionId: string, query: { status?: RunStatus; limit?: number } = {}): Promise<{ items: Run[] }> {
    return this.#get(`/api/v1/sessions/${id(sessionId)}/runs`, query);
  }
  /** Queues a run on the session's server; resolves with its id once it is stored `pending`. */
  submitRun(sessionId: string, input: SubmitRunInput): Promise<{ runId: string; run: Run }> {
    return this.#post(`/api/v1/sessions/${id(sessionId)}/runs`, input);
  }
  getRun(sessionId: string, runId: string): Promise<Run> {
    return this.#get(`/api/v1/sessions/${id(sessionId)}/runs/${id(runId)}`);
  }
  /** Long-polls until the run ended or `timeoutMs` (default 30000 on the server, at most 120000) passed. */
  awaitRun(
    sessionId: string,
    runId: string,
    options: { timeoutMs?: number; signal?: AbortSignal } = {},
  ): Promise<AwaitedRun> {
    const { signal, ...query } = options;
    return this.#get(`/api/v1/sessions/${id(sessionId)}/runs/${id(runId)}/await`, query, signal);
  }
  cancelRun(sessionId: string, runId: string, reason?: string): Promise<Run> {
    return this.#post(`/api/v1/sessions/${id(sessionId)}/runs/${id(runId)}/cancel`, reason ? { reason } : {});
  }
  interruptRun(sessionId: string, runId: string, reason?: string): Promise<Run> {
    return this.#post(
      `/api/v1/sessions/${id(sessionId)}/runs/${id(runId)}/interrupt`,
      reason ? { reason } : {},
    );
  }

  /** A page of the session's log after a cursor (a long-poll with `waitTimeoutMs`). */
  getEvents(sessionId: string, query: EventPageQuery = {}): Promise<EventPage> {
    const { signal, ...rest } = query;
    return this.#get(`/api/v1/sessions/${id(sessionId)}/events`, rest, signal);
  }

  /**
   * The session's events over SSE, from `after`, until the session ends (or `signal` aborts).
   * A dropped connection is resumed with `Last-Event-ID` set to the last sequence received, so
   * the iteration sees every event once, in order, whatever the reconnects.
   */
  async *events(sessionId: string, options: EventStreamOptions = {}): AsyncGenerator<AsmEvent> {
    let cursor = options.after ?? 0;
    const delayMs = options.reconnectDelayMs ?? 1000;
    const maxFailed = options.maxFailedReconnects ?? 10;
    const { signal } = options;
    let failed = 0;
    let attempt = 0;
    const query = queryString({ types: options.types, runId: options.runId });
    for (;;) {
      if (signal?.aborted) return;
      let progressed = false;
      let sessionEnded = false;
      try {
        const response = await this.#fetch(
          `${this.#baseUrl}/api/v1/sessions/${id(sessionId)}/events/stream${query}`,
          {
            headers: { ...this.#auth(), accept: "text/event-stream", "last-event-id": String(cursor) },
            ...(signal ? { signal } : {}),
          },
        );
        if (response.status === 204) return;
        if (!response.ok) {
          const error = await apiError(response);
          // A client mistake (bad cursor, unknown session, token) will not change by retrying.
          if (response.status < 500 && response.status !== 429) throw error;
          throw new RetryableError(error);
        }
        if (!response.body) throw new RetryableError(new Error("the stream response has no body"));
        const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
        const parser = new SseParser();
        try {
          for (;;) {
            const { done, value } = await reader.read();
            if (done) break;
            for (const item of parser.push(value)) {
              if ("comment" in item) {
                if (item.comment === "session ended") sessionEnded = true;
                continue;
              }
              const { message } = item;
              const event = JSON.parse(message.data) as AsmEvent;
              // Sequences only grow: anything at or below the cursor was seen before a reconnect.
              if (event.sequence <= cursor) continue;
              cursor = event.sequence;
              progressed = true;
              failed = 0;
              yield event;
            }
          }
        } finally {
          reader.cancel().catch(() => undefined);
        }
        if (sessionEnded) return;
      } catch (error) {
        if (signal?.aborted) return;
        if (error instanceof AsmApiError) throw error;
        if (!progressed) failed += 1;
        if (failed > maxFailed) throw error instanceof RetryableError ? error.cause : error;
        attempt += 1;
        options.onReconnect?.({
          after: cursor,
          attempt,
          error: error instanceof RetryableError ? error.cause : error,
        });
        await sleep(delayMs, signal);
        continue;
      }
      // A clean end without the session's end (server restarting, a proxy's timeout): resume.
      if (!progressed) failed += 1;
      if (failed > maxFailed) throw new Error(`the event stream of ${sessionId} kept ending without events`);
      attempt += 1;
      options.onReconnect?.({ after: cursor, attempt });
      await sleep(delayMs, signal);
    }
  }

  /** Usage and cost of runs, in total and by provider and model. */
  usage(filter: UsageFilter = {}): Promise<UsageSummary> {
    return this.#get("/api/v1/usage", filter);
  }
  sessionUsage(sessionId: string): Promise<UsageSummary> {
    return this.#get(`/api/v1/sessions/${id(sessionId)}/usage`);
  }

  pendingApprovals(sessionId: string): Promise<{ items: ApprovalRequest[] }> {
    return this.#get(`/api/v1/sessions/${id(sessionId)}/approvals`);
  }
  approve(
    sessionId: string,
    approvalId: string,
    options: { by?: string; note?: string } = {},
  ): Promise<DecisionResult> {
    return this.#post(`/api/v1/sessions/${id(sessionId)}/approvals/${id(approvalId)}/approve`, options);
  }
  deny(
    sessionId: string,
    approvalId: string,
    options: { by?: string; reason?: string; note?: string } = {},
  ): Promise<DecisionResult> {
    return this.#post(`/api/v1/sessions/${id(sessionId)}/approvals/${id(approvalId)}/deny`, options);
  }

  health(): Promise<{ status: string }> {
    return this.#get("/healthz");
  }
  /** Resolves when the server is ready; an `AsmApiError` with status 503 when it is not. */
  ready(): Promise<{ status: string; sessionServers: number; streams: number }> {
    return this.#get("/readyz");
  }

  #auth(): Record<string, string> {
    return this.#token ? { authorization: `Bearer ${this.#token}` } : {};
  }

  async #get<T>(path: string, query: object = {}, signal?: AbortSignal): Promise<T> {
    return this.#send(`${path}${queryString(query)}`, { method: "GET", ...(signal ? { signal } : {}) });
  }

  async #post<T>(path: string, body: unknown): Promise<T> {
    return this.#send(path, {
      method: "POST",
      body: JSON.stringify(body),
      headers: { "content-type": "application/json" },
    });
  }

  async #send<T>(path: string, init: RequestInit): Promise<T> {
    const response = await this.#fetch(`${this.#baseUrl}${path}`, {
      ...init,
      headers: { ...(init.headers as Record<string, string> | undefined), ...this.#auth() },
    });
    if (!response.ok) throw await apiError(response);
    return (await response.json()) as T;
  }
}

class RetryableError extends Error {
  constructor(override readonly cause: unknown) {
    super(cause instanceof Error ? cause.message : String(cause));
  }
}

/** A path segment, escaped: ids never change a URL's path. */
function id(value: string): string {
  return encodeURIComponent(value);
}

function queryString(query: object): string {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) {
    if (value === undefined) continue;
    params.set(key, Array.isArray(value) ? value.join(",") : String(value));
  }
  const text = params.toString();
  return text ? `?${text}` : "";
}

async function apiError(response: Response): Promise<AsmApiError> {
  const text = await response.text().catch(() => "");
  try {
    const body = JSON.parse(text) as ApiErrorBody;
    if (typeof body.code === "string" && typeof body.message === "string")
      return new AsmApiError(response.status, body);
  } catch {
    // Not one of the API's errors (a proxy's page): reported by status below.
  }
  return new AsmApiError(response.status, {
    code: "internal_error",
    message: `HTTP ${response.status}: ${text.slice(0, 200)}`,
  });
}

function sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener("abort", done);
      resolve();
    }
    signal?.addEventListener("abort", done, { once: true });
  });
}

import { createServer, type ServerResponse } from "node:http";
import { isRecord } from "../utils/is-record.js";
import { listenOnLoopback, parseJson, readBody, trackConnections } from "./mock-http.js";

/*
 * A loopback mock of the Gemini API (generativelanguage v1beta), enough for the real Gemini CLI
 * (`gemini -p … -o stream-json`, and `gemini --acp`) to run turns against it. Point the CLI at it
 * with `GOOGLE_GEMINI_BASE_URL=<url>` and any `GEMINI_API_KEY`; headless runs also need
 * `security.auth.selectedType: "gemini-api-key"` in the CLI's settings (see `geminiMockSettings`).
 *
 * `POST /v1beta/models/<model>:streamGenerateContent?alt=sse` is answered with Server-Sent Events
 * (`data: <GenerateContentResponse>`), `POST …:generateContent` (the CLI's helper calls: the model
 * router, next-speaker checks, session summaries) with one JSON response. Errors carry a Google
 * RPC error body; a 429 can name its retry delay (`RetryInfo`).
 */

/** One request the mock received. */
export interface MockGeminiRequest {
  method: string;
  /** Path and query, e.g. `/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse`. */
  url: string;
  headers: Record<string, string | string[] | undefined>;
  /** The JSON body, or `undefined` when there was none (or it was not JSON). */
  body: unknown;
  /** The model named in the path, e.g. `gemini-2.5-flash`. */
  model?: string;
  /** What the path asks for: `streamGenerateContent`, `generateContent`, `countTokens`. */
  action?: string;
}

/** Token counts of one mock response, as `usageMetadata` reports them. */
export interface MockGeminiUsage {
  promptTokens: number;
  candidatesTokens: number;
  cachedTokens?: number;
  thoughtsTokens?: number;
}

/** What the mock answers to one `streamGenerateContent`. */
export type MockGeminiReply =
  /** Model text, optionally after a thought part; `chunks` splits the text over that many SSE events. */
  | { type: "text"; text: string; thought?: string; chunks?: number; usage?: MockGeminiUsage }
  /** A function call, e.g. `read_file` with `{ file_path }` or `run_shell_command` with `{ command }`. */
  | {
      type: "function_call";
      name: string;
      args: Record<string, unknown>;
      text?: string;
      usage?: MockGeminiUsage;
    }
  /** An HTTP error with a Google RPC error body; `retryDelaySeconds` adds a `RetryInfo` detail. */
  | { type: "error"; status: number; message: string; rpcStatus?: string; retryDelaySeconds?: number }
  /** A candidate with no parts (the CLI reports an invalid, empty response). */
  | { type: "empty" }
  /** Opens the stream and sends nothing more, until the client goes away or the mock closes. */
  | { type: "stall" };

/** The parts of a generateContent request body the repliers look at. */
export interface GeminiRequestBody {
  contents?: { role?: string; parts?: Record<string, unknown>[] }[];
  tools?: { functionDeclarations?: { name?: string }[] }[];
  systemInstruction?: unknown;
  [key: string]: unknown;
}

/** Picks the reply to one streaming request, from its body and the calls before it. */
export type MockGeminiReplier = (
  body: GeminiRequestBody,
  calls: readonly MockGeminiRequest[],
) => MockGeminiReply;

export interface MockGeminiApi {
  /** `http://127.0.0.1:<port>`: the value of `GOOGLE_GEMINI_BASE_URL`. */
  readonly url: string;
  /** Every request received, in order. */
  readonly requests: readonly MockGeminiRequest[];
  /** The remote address of every connection accepted. */
  readonly connections: readonly string[];
  /** The `streamGenerateContent` requests only (the model turns). */
  streamRequests(): MockGeminiRequest[];
  close(): Promise<void>;
}

export const DEFAULT_MOCK_GEMINI_USAGE: Readonly<Required<MockGeminiUsage>> = Object.freeze({
  promptTokens: 220,
  candidatesTokens: 42,
  cachedTokens: 0,
  thoughtsTokens: 0,
});

/** The `functionResponse` parts a request body sends back to the model (what the tools returned), as JSON text. */
export function functionResponses(body: unknown): string[] {
  const contents = isRecord(body) && Array.isArray(body.contents) ? body.contents : [];
  return contents.flatMap((content: unknown) =>
    isRecord(content) && Array.isArray(content.parts)
      ? content.parts.flatMap((part: unknown) =>
          isRecord(part) && isRecord(part.functionResponse) ? [JSON.stringify(part.functionResponse)] : [],
        )
      : [],
  );
}

/** The function names a request offered the model. */
export function offeredFunctions(body: unknown): string[] {
  const tools = isRecord(body) ? body.tools : undefined;
  if (!Array.isArray(tools)) return [];
  return tools.flatMap((tool: unknown) =>
    isRecord(tool) && Array.isArray(tool.functionDeclarations)
      ? tool.functionDeclarations.flatMap((declaration: unknown) =>
          isRecord(declaration) && typeof declaration.name === "string" ? [declaration.name] : [],
        )
      : [],
  );
}

/** The text of the user turns of a request body, joined: what the prompt (and history) said. */
export function userText(body: unknown): string {
  const contents = isRecord(body) && Array.isArray(body.contents) ? body.contents : [];
  return contents
    .filter((content: unknown) => isRecord(content) && content.role === "user")
    .flatMap((content: Record<string, unknown>) => (Array.isArray(content.parts) ? content.parts : []))
    .map((part: unknown) => (isRecord(part) && typeof part.text === "string" ? part.text : ""))
    .join("\n");
}

/**
 * Settings (`<GEMINI_CLI_HOME>/.gemini/settings.json`) for a CLI run against the mock: the API-key
 * auth type (without it a headless run with a base URL exits 41, gemini-cli#27550), no telemetry
 * or update checks, and one attempt per request so a failing mock fails the run at once.
 */
export function geminiMockSettings(): Record<string, unknown> {
  return {
    security: { auth: { selectedType: "gemini-api-key" } },
    privacy: { usageStatisticsEnabled: false },
    telemetry: { enabled: false },
    general: { enableAutoUpdate: false, enableAutoUpdateNotification: false, maxAttempts: 1 },
  };
}

function usageMetadata(usage: MockGeminiUsage = DEFAULT_MOCK_GEMINI_USAGE): Record<string, unknown> {
  return {
    promptTokenCount: usage.promptTokens,
    candidatesTokenCount: usage.candidatesTokens,
    ...(usage.cachedTokens ? { cachedContentTokenCount: usage.cachedTokens } : {}),
    ...(usage.thoughtsTokens ? { thoughtsTokenCount: usage.thoughtsTokens } : {}),
    totalTokenCount: usage.promptTokens + usage.candidatesTokens + (usage.thoughtsTokens ?? 0),
  };
}

function candidate(parts: Record<string, unknown>[], finish: boolean): Record<string, unknown> {
  return { content: { role: "model", parts }, ...(finish ? { finishReason: "STOP" } : {}), index: 0 };
}

function splitText(text: string, chunks: number): string[] {
  const size = Math.max(1, Math.ceil(text.length / Math.max(1, chunks)));
  const out: string[] = [];
  for (let at = 0; at < text.length; at += size) out.push(text.slice(at, at + size));
  return out.length > 0 ? out : [""];
}

/** The GenerateContentResponse events of one successful reply. */
function replyEvents(reply: Exclude<MockGeminiReply, { type: "error" } | { type: "stall" }>, model: string) {
  const version = { modelVersion: model, responseId: `mock-${Math.random().toString(36).slice(2, 10)}` };
  if (reply.type === "empty") {
    return [{ candidates: [candidate([], true)], usageMetadata: usageMetadata(), ...version }];
  }
  const events: Record<string, unknown>[] = [];
  if (reply.type === "text") {
    if (reply.thought)
      events.push({ candidates: [candidate([{ text: reply.thought, thought: true }], false)], ...version });
    const pieces = splitText(reply.text, reply.chunks ?? 1);
    pieces.forEach((piece, index) => {
      const last = index === pieces.length - 1;
      events.push({
        candidates: [candidate([{ text: piece }], last)],
        ...(last ? { usageMetadata: usageMetadata(reply.usage) } : {}),
        ...version,
      });
    });
    return events;
  }
  const parts: Record<string, unknown>[] = [];
  if (reply.text) parts.push({ text: reply.text });
  parts.push({ functionCall: { name: reply.name, args: reply.args } });
  events.push({
    candidates: [candidate(parts, true)],
    usageMetadata: usageMetadata(reply.usage),
    ...version,
  });
  return events;
}

function errorBody(reply: Extract<MockGeminiReply, { type: "error" }>): string {
  const status =
    reply.rpcStatus ??
    (reply.status === 429
      ? "RESOURCE_EXHAUSTED"
      : reply.status === 401
        ? "UNAUTHENTICATED"
        : reply.status === 403
          ? "PERMISSION_DENIED"
          : reply.status >= 500
            ? "INTERNAL"
            : "INVALID_ARGUMENT");
  return JSON.stringify({
    error: {
      code: reply.status,
      message: reply.message,
      status,
      ...(reply.retryDelaySeconds !== undefined
        ? {
            details: [
              {
                "@type": "type.googleapis.com/google.rpc.RetryInfo",
                retryDelay: `${reply.retryDelaySeconds}s`,
              },
            ],
          }
        : {}),
    },
  });
}

const MODEL_PATH = /^\/v1(?:beta|alpha)?\/models\/([^:/?]+):(\w+)/;

/** Starts the mock on an ephemeral loopback port. */
export async function startMockGeminiApi(replier: MockGeminiReplier): Promise<MockGeminiApi> {
  const requests: MockGeminiRequest[] = [];
  const connections: string[] = [];

  const answerStream = (reply: MockGeminiReply, model: string, response: ServerResponse): void => {
    if (reply.type === "error") {
      response.writeHead(reply.status, { "content-type": "application/json" });
      response.end(errorBody(reply));
      return;
    }
    response.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-cache" });
    if (reply.type === "stall") {
      response.flushHeaders();
      return;
    }
    for (const event of replyEvents(reply, model)) response.write(`data: ${JSON.stringify(event)}\r\n\r\n`);
    response.end();
  };

  const server = createServer((request, response) => {
    void readBody(request).then((text) => {
      const url = request.url ?? "/";
      const match = MODEL_PATH.exec(url.split("?")[0] ?? "");
      const recorded: MockGeminiRequest = {
        method: request.method ?? "GET",
        url,
        headers: request.headers,
        body: parseJson(text),
        ...(match ? { model: match[1], action: match[2] } : {}),
      };
      requests.push(recorded);
      const model = recorded.model ?? "mock-gemini";
      if (recorded.method !== "POST" || !match) {
        response.writeHead(404, { "content-type": "application/json" });
        response.end(
          errorBody({ type: "error", status: 404, message: `no mock for ${recorded.method} ${url}` }),
        );
        return;
      }
      const body: GeminiRequestBody = isRecord(recorded.body) ? recorded.body : {};
      if (recorded.action === "streamGenerateContent") {
        answerStream(replier(body, requests.slice(0, -1)), model, response);
        return;
      }
      if (recorded.action === "countTokens") {
        response.writeHead(200, { "content-type": "application/json" });
        response.end(JSON.stringify({ totalTokens: 10 }));
        return;
      }
      // Helper calls (router classifier, next speaker, summaries): a short JSON answer that
      // routes to the pinned model and ends the turn.
      response.writeHead(200, { "content-type": "application/json" });
      response.end(
        JSON.stringify({
          candidates: [
            candidate(
              [{ text: JSON.stringify({ reasoning: "mock", next_speaker: "user", model_choice: "flash" }) }],
              true,
            ),
          ],
          usageMetadata: usageMetadata({ promptTokens: 1, candidatesTokens: 1 }),
          modelVersion: model,
        }),
      );
    });
  });
  const close = trackConnections(server, (socket) => {
    connections.push(socket.remoteAddress ?? "unknown");
  });
  const url = await listenOnLoopback(server);
  return {
    url,
    requests,
    connections,
    streamRequests: () => requests.filter((request) => request.action === "streamGenerateContent"),
    close,
  };
}

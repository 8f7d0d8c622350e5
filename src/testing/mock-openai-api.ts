import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { Socket } from "node:net";
import { performance } from "node:perf_hooks";
import { isRecord } from "../utils/is-record.js";
import { listenOnLoopback, parseJson, readBody, trackConnections } from "./mock-http.js";

/*
 * A loopback mock of the OpenAI Responses API, enough for the real Codex CLI (`codex exec`) to
 * run a turn against it, and a proxy that traps any attempt to go anywhere else.
 *
 * Codex first tries the Responses API over a WebSocket (`GET /v1/responses` with an Upgrade
 * header); the mock answers 426, which makes Codex fall back to HTTPS at once (a 404 costs ~7 s
 * of reconnects). `POST /v1/responses` is answered with Server-Sent Events: `response.created`,
 * `response.output_item.done` per output item, `response.completed` with usage.
 */

/** One request the mock received. */
export interface MockOpenAiRequest {
  method: string;
  /** Path and query, e.g. `/v1/responses`. */
  url: string;
  headers: Record<string, string | string[] | undefined>;
  /** The JSON body, or `undefined` when there was none (or it was not JSON). */
  body: unknown;
  /** True for the WebSocket upgrade attempt (answered 426). */
  upgrade: boolean;
}

/** Token counts of one mock response, in the Responses API's terms (cached tokens are part of input). */
export interface MockUsage {
  inputTokens: number;
  cachedTokens?: number;
  outputTokens: number;
  reasoningTokens?: number;
}

/** What the mock answers to one `POST /v1/responses`. */
export type MockResponsesReply =
  /** An assistant message, optionally after a reasoning summary. */
  | { type: "text"; text: string; reasoning?: string; usage?: MockUsage }
  /** A function call, e.g. Codex's shell tool `exec_command` with `{ cmd }`. */
  | {
      type: "function_call";
      name: string;
      arguments: Record<string, unknown>;
      callId?: string;
      usage?: MockUsage;
    }
  /**
   * An HTTP error with an OpenAI error body, e.g. a 429 with `retryAfterSeconds` (sent as the
   * `retry-after` header, as OpenAI does) or a 500.
   */
  | {
      type: "error";
      status: number;
      message: string;
      errorType?: string;
      code?: string;
      /** Sent as the `retry-after` header (seconds). Default: no header. */
      retryAfterSeconds?: number;
    }
  /** Sends `response.created`, then nothing, until the client goes away or the mock closes. */
  | { type: "stall" }
  /**
   * Streams an assistant message slowly: `response.created`, the message item's start, then one
   * `response.output_text.delta` every `intervalMs`, `chunks` times, then the item and the
   * response's end. For measuring how soon a cancel stops the model stream (see
   * `MockOpenAiApi.streams`).
   */
  | { type: "slow"; chunks: number; intervalMs: number; usage?: MockUsage };

/**
 * When the mock wrote the bytes of one streamed answer, in `performance.now()` milliseconds of
 * the process the mock runs in (compare with `performance.now()` there).
 */
export interface MockResponsesStream {
  /** Index of the request in `responseRequests()`. */
  requestIndex: number;
  /** When the response head was written. */
  startedAt: number;
  /** When the last byte was written so far. */
  lastByteAt: number;
  /** Server-Sent Events written so far. */
  events: number;
  /** When the mock finished the answer itself; absent when it was cut off. */
  endedAt?: number;
  /** When the connection closed (the client went away, or the answer ended). */
  closedAt?: number;
}

/** The parts of a Responses API request body the repliers look at. */
export interface ResponsesRequestBody {
  model?: string;
  stream?: boolean;
  instructions?: string;
  input?: unknown[];
  [key: string]: unknown;
}

/** Picks the reply to one `POST /v1/responses`, from its body and the calls before it. */
export type MockResponsesReplier = (
  body: ResponsesRequestBody,
  calls: readonly MockOpenAiRequest[],
) => MockResponsesReply;

export interface MockOpenAiApi {
  /** `http://127.0.0.1:<port>`. */
  readonly url: string;
  /** `http://127.0.0.1:<port>/v1`: Codex's `openai_base_url` (the SDK's `baseUrl`). */
  readonly baseUrl: string;
  /** Every request received, in order (the WebSocket upgrade attempts included). */
  readonly requests: readonly MockOpenAiRequest[];
  /** The remote address of every connection accepted. */
  readonly connections: readonly string[];
  /** The `POST /v1/responses` requests only. */
  responseRequests(): MockOpenAiRequest[];
  /** Every streamed answer, in the order they started, with the times of its writes. */
  readonly streams: readonly MockResponsesStream[];
  close(): Promise<void>;
}

export const DEFAULT_MOCK_USAGE: Readonly<Required<MockUsage>> = Object.freeze({
  inputTokens: 100,
  cachedTokens: 40,
  outputTokens: 10,
  reasoningTokens: 3,
});

/** The outputs of the function calls the request sends back to the model (what the tools printed). */
export function functionCallOutputs(body: ResponsesRequestBody): string[] {
  const outputs: string[] = [];
  for (const item of body.input ?? []) {
    if (!isRecord(item) || item.type !== "function_call_output") continue;
    const output = item.output;
    if (typeof output === "string") outputs.push(output);
    else if (Array.isArray(output)) {
      for (const part of output) if (isRecord(part) && typeof part.text === "string") outputs.push(part.text);
    } else if (output !== undefined) outputs.push(JSON.stringify(output));
  }
  return outputs;
}

/**
 * The tools a recorded request offered the model: each function tool's `name`, else the tool's
 * `type` (`web_search`). Empty for a body that is not a Responses request.
 */
export function offeredTools(body: unknown): string[] {
  const tools = isRecord(body) ? body.tools : undefined;
  if (!Array.isArray(tools)) return [];
  return tools.flatMap((tool: unknown) => {
    if (!isRecord(tool)) return [];
    const name = typeof tool.name === "string" ? tool.name : tool.type;
    return typeof name === "string" ? [name] : [];
  });
}

function responseUsage(usage: MockUsage = DEFAULT_MOCK_USAGE): Record<string, unknown> {
  return {
    input_tokens: usage.inputTokens,
    input_tokens_details: { cached_tokens: usage.cachedTokens ?? 0 },
    output_tokens: usage.outputTokens,
    output_tokens_details: { reasoning_tokens: usage.reasoningTokens ?? 0 },
    total_tokens: usage.inputTokens + usage.outputTokens,
  };
}

function sse(
  response: ServerResponse,
  stream: MockResponsesStream,
  data: { type: string; [key: string]: unknown },
): void {
  response.write(`event: ${data.type}\ndata: ${JSON.stringify(data)}\n\n`);
  stream.lastByteAt = performance.now();
  stream.events += 1;
}

/** The slow reply's deltas, one every `intervalMs`, stopping as soon as the client goes away. */
async function streamSlowText(
  response: ServerResponse,
  stream: MockResponsesStream,
  reply: Extract<MockResponsesReply, { type: "slow" }>,
  itemId: string,
): Promise<string | undefined> {
  let text = "";
  for (let chunk = 0; chunk < reply.chunks; chunk += 1) {
    await new Promise((resolve) => setTimeout(resolve, reply.intervalMs));
    // The client went away: nothing more is sent, as the API would stop generating.
    if (response.destroyed || response.writableEnded) return undefined;
    const delta = `chunk ${chunk} `;
    text += delta;
    sse(response, stream, {
      type: "response.output_text.delta",
      item_id: itemId,
      output_index: 0,
      content_index: 0,
      delta,
    });
  }
  return text;
}

function isResponsesRequest(request: MockOpenAiRequest): boolean {
  return request.method === "POST" && request.url.split("?")[0] === "/v1/responses";
}

/** Starts the mock on an ephemeral loopback port. */
export async function startMockOpenAiApi(replier: MockResponsesReplier): Promise<MockOpenAiApi> {
  const requests: MockOpenAiRequest[] = [];
  const connections: string[] = [];
  const streams: MockResponsesStream[] = [];
  let responseCount = 0;

  const answer = async (reply: MockResponsesReply, response: ServerResponse): Promise<void> => {
    if (reply.type === "error") {
      response.writeHead(reply.status, {
        "content-type": "application/json",
        ...(reply.retryAfterSeconds === undefined ? {} : { "retry-after": String(reply.retryAfterSeconds) }),
      });
      response.end(
        JSON.stringify({
          error: {
            message: reply.message,
            type: reply.errorType ?? "invalid_request_error",
            code: reply.code ?? null,
          },
        }),
      );
      return;
    }
    responseCount += 1;
    const id = `resp_mock_${responseCount}`;
    response.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-cache" });
    const now = performance.now();
    const stream: MockResponsesStream = {
      requestIndex: requests.filter(isResponsesRequest).length - 1,
      startedAt: now,
      lastByteAt: now,
      events: 0,
    };
    streams.push(stream);
    response.on("close", () => {
      stream.closedAt = performance.now();
    });
    sse(response, stream, { type: "response.created", response: { id } });
    if (reply.type === "stall") return;
    const items: Record<string, unknown>[] = [];
    if (reply.type === "slow") {
      const itemId = `msg_${responseCount}`;
      const message = { type: "message", role: "assistant", id: itemId };
      sse(response, stream, {
        type: "response.output_item.added",
        output_index: 0,
        item: { ...message, content: [] },
      });
      const text = await streamSlowText(response, stream, reply, itemId);
      if (text === undefined) return;
      items.push({ ...message, content: [{ type: "output_text", text, annotations: [] }] });
    } else if (reply.type === "text") {
      if (reply.reasoning) {
        items.push({
          type: "reasoning",
          id: `rs_${responseCount}`,
          summary: [{ type: "summary_text", text: reply.reasoning }],
        });
      }
      items.push({
        type: "message",
        role: "assistant",
        id: `msg_${responseCount}`,
        content: [{ type: "output_text", text: reply.text, annotations: [] }],
      });
    } else {
      items.push({
        type: "function_call",
        id: `fc_${responseCount}`,
        call_id: reply.callId ?? `call_${responseCount}`,
        name: reply.name,
        arguments: JSON.stringify(reply.arguments),
      });
    }
    for (const item of items) sse(response, stream, { type: "response.output_item.done", item });
    sse(response, stream, {
      type: "response.completed",
      response: { id, usage: responseUsage(reply.usage) },
    });
    stream.endedAt = performance.now();
    response.end();
  };

  const server = createServer((request, response) => {
    void readBody(request).then((text) => {
      const recorded: MockOpenAiRequest = {
        method: request.method ?? "GET",
        url: request.url ?? "/",
        headers: request.headers,
        body: parseJson(text),
        upgrade: false,
      };
      requests.push(recorded);
      if (!isResponsesRequest(recorded)) {
        response.writeHead(404, { "content-type": "application/json" });
        response.end(
          JSON.stringify({ error: { message: `no mock for ${recorded.method} ${recorded.url}` } }),
        );
        return;
      }
      const body: ResponsesRequestBody = isRecord(recorded.body) ? recorded.body : {};
      void answer(replier(body, requests.slice(0, -1)), response);
    });
  });
  const close = trackConnections(server, (socket) => {
    connections.push(socket.remoteAddress ?? "unknown");
  });
  // Refuse the WebSocket transport with 426, so Codex falls back to HTTPS without retrying.
  server.on("upgrade", (request: IncomingMessage, socket: Socket) => {
    requests.push({
      method: request.method ?? "GET",
      url: request.url ?? "/",
      headers: request.headers,
      body: undefined,
      upgrade: true,
    });
    socket.end("HTTP/1.1 426 Upgrade Required\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
  });
  const url = await listenOnLoopback(server);
  return {
    url,
    baseUrl: `${url}/v1`,
    requests,
    connections,
    streams,
    responseRequests: () => requests.filter(isResponsesRequest),
    close,
  };
}

/** A proxy on loopback that refuses everything and records where each attempt wanted to go. */
export interface EgressTrap {
  /** `http://127.0.0.1:<port>`: the value for `HTTPS_PROXY`, `HTTP_PROXY` and `ALL_PROXY`. */
  readonly url: string;
  /** `host:port` of each CONNECT, or the absolute URL of each plain proxied request. */
  readonly attempts: readonly string[];
  /** The variables that send a process's HTTP(S) traffic (git's and Codex's too) through the trap. */
  env(): Record<string, string>;
  close(): Promise<void>;
}

/**
 * Starts a proxy that answers 403 to everything, for checking that a process under test makes
 * no connection beyond loopback: set `env()` in its environment (loopback stays direct through
 * `NO_PROXY`) and expect `attempts` to stay empty.
 */
export async function startEgressTrap(): Promise<EgressTrap> {
  const attempts: string[] = [];
  const server = createServer((request, response) => {
    attempts.push(request.url ?? "");
    response.writeHead(403);
    response.end();
  });
  const close = trackConnections(server);
  server.on("connect", (request: IncomingMessage, socket: Socket) => {
    attempts.push(request.url ?? "");
    socket.end("HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n");
  });
  const url = await listenOnLoopback(server);
  return {
    url,
    attempts,
    env: () => ({
      HTTPS_PROXY: url,
      HTTP_PROXY: url,
      ALL_PROXY: url,
      https_proxy: url,
      http_proxy: url,
      all_proxy: url,
      NO_PROXY: "127.0.0.1,localhost,::1",
      no_proxy: "127.0.0.1,localhost,::1",
    }),
    close,
  };
}

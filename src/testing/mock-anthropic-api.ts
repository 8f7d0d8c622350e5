import { randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { createRequire } from "node:module";
import type { AddressInfo } from "node:net";
import path from "node:path";
import { performance } from "node:perf_hooks";

/** One request the mock received. */
export interface MockApiRequest {
  method: string;
  /** Path and query, e.g. `/v1/messages?beta=true`. */
  url: string;
  headers: Record<string, string | string[] | undefined>;
  /** The JSON body, or `undefined` when there was none (or it was not JSON). */
  body: unknown;
}

/** What the mock answers to a Messages API call. */
export type MockReply =
  | { type: "text"; text: string; inputTokens?: number; outputTokens?: number }
  | { type: "tool_use"; name: string; input: Record<string, unknown>; id?: string; text?: string }
  | {
      type: "error";
      status: number;
      errorType: string;
      message: string;
      /** Sent as the `retry-after` header (seconds), as the API does on 429 and 529. */
      retryAfterSeconds?: number;
    }
  /** Sends the start of a streamed message, then nothing, until the client goes away. */
  | { type: "stall" }
  /**
   * Streams a text answer slowly: the message start (with `inputTokens`), then one text delta
   * every `intervalMs`, `chunks` times, then the message's end. For measuring how soon a cancel
   * stops the model stream (see `MockAnthropicApi.streams`).
   */
  | { type: "slow"; chunks: number; intervalMs: number; inputTokens?: number }
  /** Closes the connection without answering: a dropped connection. */
  | { type: "drop" };

/** Picks the reply to one `POST /v1/messages` call, from its body and the calls before it. */
export type MockReplier = (body: MessagesRequestBody, calls: readonly MockApiRequest[]) => MockReply;

/** The parts of a Messages API request body the repliers look at. */
export interface MessagesRequestBody {
  model?: string;
  stream?: boolean;
  messages?: { role: string; content: unknown }[];
  [key: string]: unknown;
}

/**
 * When the mock wrote the bytes of one streamed answer, in `performance.now()` milliseconds of
 * the process the mock runs in (compare with `performance.now()` there).
 */
export interface MockStreamRecord {
  /** Index of the request in `messageRequests()`. */
  requestIndex: number;
  /** When the response head was written. */
  startedAt: number;
  /** When the last byte was written so far. */
  lastByteAt: number;
  /** Body bytes written so far. */
  bytes: number;
  /** When the mock finished the answer itself; absent when it was cut off. */
  endedAt?: number;
  /** When the connection closed (the client went away, or the answer ended). */
  closedAt?: number;
}

export interface MockAnthropicApi {
  /** `http://127.0.0.1:<port>`: the value for `ANTHROPIC_BASE_URL`. */
  readonly url: string;
  /** Every request received, in order. */
  readonly requests: readonly MockApiRequest[];
  /** The `POST /v1/messages` requests only. */
  messageRequests(): MockApiRequest[];
  /** Every streamed answer, in the order they started, with the times of its writes. */
  readonly streams: readonly MockStreamRecord[];
  close(): Promise<void>;
}

/**
 * The real Claude Code binary the Agent SDK installs (its linux-x64 platform package), or
 * undefined where there is none (another platform, or the package is not installed).
 */
export function bundledClaudeBinary(): string | undefined {
  if (process.platform !== "linux" || process.arch !== "x64") return undefined;
  try {
    const pkg = createRequire(import.meta.url).resolve(
      "@anthropic-ai/claude-agent-sdk-linux-x64/package.json",
    );
    const binary = path.join(path.dirname(pkg), "claude");
    return existsSync(binary) ? binary : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The environment that runs a real Claude Code against this mock at `apiUrl`, with `home` as its
 * HOME, config dir and TMPDIR (the user's own are neither read nor written), no retries, and
 * nothing sent anywhere else (no updater, telemetry or error reports).
 */
export function claudeMockEnv(apiUrl: string, home: string): Record<string, string> {
  return {
    ANTHROPIC_BASE_URL: apiUrl,
    ANTHROPIC_API_KEY: "sk-ant-mock-dummy",
    HOME: home,
    CLAUDE_CONFIG_DIR: path.join(home, ".claude"),
    TMPDIR: home,
    CLAUDE_CODE_MAX_RETRIES: "0",
    CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: "1",
    DISABLE_AUTOUPDATER: "1",
    DISABLE_TELEMETRY: "1",
    DISABLE_ERROR_REPORTING: "1",
  };
}

/** Whether the conversation's last user turn carries a tool result (the agent loop's second call). */
export function hasToolResult(body: MessagesRequestBody): boolean {
  const last = body.messages?.at(-1);
  return (
    Array.isArray(last?.content) &&
    last.content.some(
      (block: unknown) =>
        typeof block === "object" && block !== null && "type" in block && block.type === "tool_result",
    )
  );
}

/** The names of the tools a recorded request offered the model; empty for a body without tools. */
export function offeredToolNames(body: unknown): string[] {
  const tools = typeof body === "object" && body !== null && "tools" in body ? body.tools : undefined;
  if (!Array.isArray(tools)) return [];
  return tools.flatMap((tool: unknown) =>
    typeof tool === "object" && tool !== null && "name" in tool && typeof tool.name === "string"
      ? [tool.name]
      : [],
  );
}

/** The text of every tool result in the request, joined: what the tool printed. */
export function toolResultText(body: MessagesRequestBody): string {
  const parts: string[] = [];
  for (const message of body.messages ?? []) {
    if (!Array.isArray(message.content)) continue;
    for (const block of message.content as unknown[]) {
      if (typeof block !== "object" || block === null || !("type" in block) || block.type !== "tool_result")
        continue;
      const content = "content" in block ? block.content : undefined;
      if (typeof content === "string") parts.push(content);
      else if (Array.isArray(content)) {
        for (const item of content as unknown[]) {
          if (typeof item === "object" && item !== null && "text" in item && typeof item.text === "string") {
            parts.push(item.text);
          }
        }
      }
    }
  }
  return parts.join("\n");
}

/** Writes one server-sent event, noting when (and how many bytes) in `record`. */
function sse(response: ServerResponse, record: MockStreamRecord, event: string, data: unknown): void {
  if (response.destroyed) return;
  const chunk = `event: ${event}\ndata: ${JSON.stringify(data)}\n\n`;
  response.write(chunk);
  record.bytes += Buffer.byteLength(chunk);
  record.lastByteAt = performance.now();
}

function messageId(): string {
  return `msg_mock_${randomBytes(6).toString("hex")}`;
}

function readBody(request: IncomingMessage): Promise<unknown> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    request.on("data", (chunk: Buffer) => chunks.push(chunk));
    request.on("end", () => {
      const text = Buffer.concat(chunks).toString("utf8");
      try {
        resolve(text ? JSON.parse(text) : undefined);
      } catch {
        resolve(undefined);
      }
    });
    request.on("error", () => resolve(undefined));
  });
}

function usage(input: number, output: number) {
  return {
    input_tokens: input,
    output_tokens: output,
    cache_creation_input_tokens: 0,
    cache_read_input_tokens: 0,
  };
}

type StreamedReply = Exclude<MockReply, { type: "error" | "drop" }>;

async function replyStreamed(
  response: ServerResponse,
  record: MockStreamRecord,
  model: string,
  reply: StreamedReply,
): Promise<void> {
  response.writeHead(200, {
    "content-type": "text/event-stream",
    "cache-control": "no-cache",
    connection: "keep-alive",
  });
  record.lastByteAt = performance.now();
  const send = (event: string, data: unknown): void => sse(response, record, event, data);
  const id = messageId();
  const inputTokens = reply.type === "text" || reply.type === "slow" ? (reply.inputTokens ?? 25) : 25;
  send("message_start", {
    type: "message_start",
    message: {
      id,
      type: "message",
      role: "assistant",
      model,
      content: [],
      stop_reason: null,
      stop_sequence: null,
      usage: usage(inputTokens, 1),
    },
  });
  if (reply.type === "stall") return;
  send("ping", { type: "ping" });
  let index = 0;
  const textDelta = (text: string): void =>
    send("content_block_delta", { type: "content_block_delta", index, delta: { type: "text_delta", text } });
  if (reply.type === "slow") {
    send("content_block_start", {
      type: "content_block_start",
      index,
      content_block: { type: "text", text: "" },
    });
    for (let chunk = 0; chunk < reply.chunks; chunk += 1) {
      await new Promise((resolve) => setTimeout(resolve, reply.intervalMs));
      // The client went away: nothing more is sent, as the API would stop generating.
      if (response.destroyed || response.writableEnded) return;
      textDelta(`chunk ${chunk} `);
    }
    send("content_block_stop", { type: "content_block_stop", index });
    index += 1;
  }
  const text = reply.type === "slow" ? undefined : reply.text;
  if (text) {
    send("content_block_start", {
      type: "content_block_start",
      index,
      content_block: { type: "text", text: "" },
    });
    // Two deltas, so streaming shows as streaming.
    const half = Math.ceil(text.length / 2);
    for (const part of [text.slice(0, half), text.slice(half)].filter(Boolean)) textDelta(part);
    send("content_block_stop", { type: "content_block_stop", index });
    index += 1;
  }
  if (reply.type === "tool_use") {
    const toolId = reply.id ?? `toolu_mock_${randomBytes(6).toString("hex")}`;
    send("content_block_start", {
      type: "content_block_start",
      index,
      content_block: { type: "tool_use", id: toolId, name: reply.name, input: {} },
    });
    send("content_block_delta", {
      type: "content_block_delta",
      index,
      delta: { type: "input_json_delta", partial_json: JSON.stringify(reply.input) },
    });
    send("content_block_stop", { type: "content_block_stop", index });
  }
  const outputTokens =
    reply.type === "text" ? (reply.outputTokens ?? 12) : reply.type === "slow" ? reply.chunks * 2 : 30;
  send("message_delta", {
    type: "message_delta",
    delta: { stop_reason: reply.type === "tool_use" ? "tool_use" : "end_turn", stop_sequence: null },
    usage: { output_tokens: outputTokens },
  });
  send("message_stop", { type: "message_stop" });
  record.endedAt = performance.now();
  response.end();
}

function replyJson(
  response: ServerResponse,
  model: string,
  reply: Exclude<MockReply, { type: "error" | "stall" | "drop" }>,
): void {
  const content: unknown[] = [];
  const text = reply.type === "slow" ? "chunk ".repeat(reply.chunks) : reply.text;
  if (text) content.push({ type: "text", text });
  if (reply.type === "tool_use") {
    content.push({
      type: "tool_use",
      id: reply.id ?? `toolu_mock_${randomBytes(6).toString("hex")}`,
      name: reply.name,
      input: reply.input,
    });
  }
  response.writeHead(200, { "content-type": "application/json" });
  response.end(
    JSON.stringify({
      id: messageId(),
      type: "message",
      role: "assistant",
      model,
      content,
      stop_reason: reply.type === "tool_use" ? "tool_use" : "end_turn",
      stop_sequence: null,
      usage: usage(25, 12),
    }),
  );
}

/**
 * A loopback stand-in for the Anthropic Messages API, for running the real Claude Code binary
 * offline (`ANTHROPIC_BASE_URL=<url>`). `POST /v1/messages` is answered by `replier` — streamed
 * as server-sent events when the request asks for `stream`, as JSON otherwise; errors as the API
 * sends them (`{ type: "error", error: { type, message } }` with the status, and `retry-after`
 * when the reply sets it). Anything else is a 404. It listens on 127.0.0.1 only, records every
 * request, and the times of every streamed answer's writes (`streams`).
 */
export async function startMockAnthropicApi(replier: MockReplier): Promise<MockAnthropicApi> {
  const requests: MockApiRequest[] = [];
  const streams: MockStreamRecord[] = [];
  const open = new Set<ServerResponse>();
  const server: Server = createServer(async (request, response) => {
    const body = await readBody(request);
    const record: MockApiRequest = {
      method: request.method ?? "GET",
      url: request.url ?? "/",
      headers: { ...request.headers },
      body,
    };
    requests.push(record);
    const pathname = record.url.split("?")[0];
    if (record.method !== "POST" || pathname !== "/v1/messages") {
      response.writeHead(404, { "content-type": "application/json" });
      response.end(
        JSON.stringify({
          type: "error",
          error: { type: "not_found_error", message: `no mock for ${pathname}` },
        }),
      );
      return;
    }
    const messages = (typeof body === "object" && body !== null ? body : {}) as MessagesRequestBody;
    const model = typeof messages.model === "string" ? messages.model : "claude-mock";
    const calls = requests.filter((item) => item.method === "POST" && item.url.startsWith("/v1/messages"));
    const reply = replier(messages, calls);
    if (reply.type === "drop") {
      response.socket?.destroy();
      return;
    }
    if (reply.type === "error") {
      response.writeHead(reply.status, {
        "content-type": "application/json",
        "request-id": "req_mock",
        ...(reply.retryAfterSeconds !== undefined ? { "retry-after": String(reply.retryAfterSeconds) } : {}),
      });
      response.end(
        JSON.stringify({ type: "error", error: { type: reply.errorType, message: reply.message } }),
      );
      return;
    }
    open.add(response);
    const now = performance.now();
    const stream: MockStreamRecord = {
      requestIndex: calls.length - 1,
      startedAt: now,
      lastByteAt: now,
      bytes: 0,
    };
    response.on("close", () => {
      open.delete(response);
      stream.closedAt = performance.now();
    });
    if (messages.stream === true) {
      streams.push(stream);
      void replyStreamed(response, stream, model, reply);
    } else if (reply.type === "stall") response.writeHead(200, { "content-type": "application/json" });
    else replyJson(response, model, reply);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    streams,
    messageRequests: () =>
      requests.filter((item) => item.method === "POST" && item.url.startsWith("/v1/messages")),
    close: () =>
      new Promise<void>((resolve) => {
        for (const response of open) response.destroy();
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

#!/usr/bin/env node
// A scripted ACP agent for tests, on the SDK's agent side: plays the scenario named by
// ASM_SCRIPTED_ACP_SCENARIO (see protocol.ts) over stdio.
import { spawn } from "node:child_process";
import { readFileSync, renameSync, writeFileSync } from "node:fs";
import { Readable, Writable } from "node:stream";
import {
  agent,
  methods,
  ndJsonStream,
  PROTOCOL_VERSION,
  RequestError,
  type RequestPermissionResponse,
  type SessionUpdate,
} from "@agentclientprotocol/sdk";
import { SCRIPTED_ACP_ENV, SCRIPTED_ACP_SESSION_ID, type ScriptedAcpRecord } from "./protocol.js";

const scenario = process.env[SCRIPTED_ACP_ENV.scenario] ?? "text";
const recordPath = process.env[SCRIPTED_ACP_ENV.record];
const record: ScriptedAcpRecord = {
  pid: process.pid,
  argv: process.argv.slice(2),
  cwd: process.cwd(),
  sessions: [],
  prompts: [],
  permissionOutcomes: [],
  cancels: 0,
  childPids: [],
  stalled: false,
};
const save = (): void => {
  if (!recordPath) return;
  const temp = `${recordPath}.${process.pid}.tmp`;
  writeFileSync(temp, JSON.stringify(record, null, 2));
  renameSync(temp, recordPath);
};
save();

/** The running prompt's way to stop early on `session/cancel`. */
let cancelTurn: (() => void) | undefined;
const sleep = (ms: number): Promise<boolean> =>
  new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), ms);
    cancelTurn = () => {
      clearTimeout(timer);
      resolve(true);
    };
  });

const USAGE_META = {
  quota: {
    token_count: { input_tokens: 220, output_tokens: 42 },
    model_usage: [{ model: "scripted-acp-1", token_count: { input_tokens: 220, output_tokens: 42 } }],
  },
};

const text = (value: string) => ({ type: "text" as const, text: value });

await agent({ name: "scripted-acp-agent" })
  .onRequest(methods.agent.initialize, ({ params }) => {
    record.initialize = params as Record<string, unknown>;
    save();
    return {
      protocolVersion: PROTOCOL_VERSION,
      agentCapabilities: { loadSession: true, sessionCapabilities: { resume: {} } },
      authMethods: [],
      agentInfo: { name: "scripted-acp-agent", version: "1.0.0" },
    };
  })
  .onRequest(methods.agent.session.new, ({ params }) => {
    record.sessions.push({ method: "session/new", params: params as Record<string, unknown> });
    save();
    if (scenario === "auth_failure")
      throw RequestError.authRequired(undefined, "Gemini API key is missing or not configured.");
    return { sessionId: SCRIPTED_ACP_SESSION_ID };
  })
  .onRequest(methods.agent.session.load, async ({ params, client }) => {
    record.sessions.push({ method: "session/load", params: params as Record<string, unknown> });
    save();
    const sessionId = params.sessionId;
    await client.notify(methods.client.session.update, {
      sessionId,
      update: { sessionUpdate: "user_message_chunk", content: text("an earlier question") },
    });
    await client.notify(methods.client.session.update, {
      sessionId,
      update: { sessionUpdate: "agent_message_chunk", content: text("an earlier answer") },
    });
    return {};
  })
  .onRequest(methods.agent.session.resume, ({ params }) => {
    record.sessions.push({ method: "session/resume", params: params as Record<string, unknown> });
    save();
    return {};
  })
  .onNotification(methods.agent.session.cancel, () => {
    record.cancels += 1;
    save();
    if (scenario !== "stall") cancelTurn?.();
  })
  .onRequest(methods.agent.session.prompt, async ({ params, client }) => {
    const sessionId = params.sessionId;
    record.prompts.push(params.prompt.map((block) => (block.type === "text" ? block.text : "")).join(""));
    save();
    const update = (value: SessionUpdate) =>
      client.notify(methods.client.session.update, { sessionId, update: value });
    const answer = async (): Promise<void> => {
      await update({ sessionUpdate: "agent_message_chunk", content: text("Hello from ACP: ") });
      await update({ sessionUpdate: "agent_message_chunk", content: text("3 + 5 = 8.") });
    };
    switch (scenario) {
      case "rate_limited":
        throw new RequestError(429, "Resource has been exhausted (mock quota).");
      case "failure":
        throw RequestError.internalError(undefined, "the scripted agent failed");
      case "crash":
        await update({ sessionUpdate: "agent_message_chunk", content: text("about to crash") });
        process.kill(process.pid, "SIGKILL");
        return { stopReason: "end_turn" };
      case "stall": {
        const child = spawn("sleep", ["3600"], { stdio: "ignore" });
        if (child.pid !== undefined) record.childPids.push(child.pid);
        await update({ sessionUpdate: "agent_message_chunk", content: text("Thinking about it") });
        record.stalled = true;
        save();
        await new Promise<never>(() => {});
        return { stopReason: "end_turn" };
      }
      case "chunks": {
        const file = process.env[SCRIPTED_ACP_ENV.chunks] ?? "";
        const texts = readFileSync(file, "utf8")
          .split("\n")
          .filter((line) => line !== "")
          .map((line) => JSON.parse(line) as string);
        // Not awaited one by one: the agent writes as fast as the stream takes them.
        await Promise.all(
          texts.map((chunk) => update({ sessionUpdate: "agent_message_chunk", content: text(chunk) })),
        );
        return { stopReason: "end_turn", _meta: USAGE_META };
      }
      case "malformed_line":
        process.stdout.write('{"jsonrpc":"2.0","method":"session/upd\n');
        await answer();
        return { stopReason: "end_turn", _meta: USAGE_META };
      case "tool_call":
        await update({
          sessionUpdate: "tool_call",
          toolCallId: "call_1",
          title: "echo 8",
          kind: "execute",
          status: "pending",
          rawInput: { command: "echo 8" },
        });
        await update({ sessionUpdate: "tool_call_update", toolCallId: "call_1", status: "in_progress" });
        await update({
          sessionUpdate: "tool_call_update",
          toolCallId: "call_1",
          status: "completed",
          content: [
            { type: "content", content: text("8") },
            { type: "diff", path: "/work/answer.txt", oldText: null, newText: "8\n" },
          ],
          rawOutput: { stdout: "8\n" },
        });
        await update({ sessionUpdate: "agent_message_chunk", content: text("3 + 5 = 8.") });
        return { stopReason: "end_turn", _meta: USAGE_META };
      case "permission": {
        const toolCall = {
          toolCallId: "call_perm",
          title: "echo hi",
          kind: "execute" as const,
          status: "pending" as const,
          rawInput: { command: "echo hi" },
        };
        const response: RequestPermissionResponse = await client.request(
          methods.client.session.requestPermission,
          {
            sessionId,
            toolCall,
            options: [
              { optionId: "proceed_always", name: "Always allow", kind: "allow_always" },
              { optionId: "proceed_once", name: "Allow", kind: "allow_once" },
              { optionId: "cancel", name: "Reject", kind: "reject_once" },
            ],
          },
        );
        record.permissionOutcomes.push(response.outcome);
        save();
        const granted =
          response.outcome.outcome === "selected" && response.outcome.optionId.startsWith("proceed");
        if (granted) {
          await update({
            sessionUpdate: "tool_call_update",
            toolCallId: "call_perm",
            status: "completed",
            content: [{ type: "content", content: text("hi") }],
          });
        }
        await update({ sessionUpdate: "agent_message_chunk", content: text(granted ? "granted" : "denied") });
        return { stopReason: response.outcome.outcome === "cancelled" ? "cancelled" : "end_turn" };
      }
      default: {
        await update({ sessionUpdate: "agent_thought_chunk", content: text("Adding 3 and 5.") });
        await update({
          sessionUpdate: "plan",
          entries: [{ content: "add the numbers", priority: "high", status: "completed" }],
        });
        if (await sleep(0)) return { stopReason: "cancelled" };
        await answer();
        return { stopReason: "end_turn", _meta: USAGE_META };
      }
    }
  })
  .connect(
    ndJsonStream(
      Writable.toWeb(process.stdout) as WritableStream<Uint8Array>,
      Readable.toWeb(process.stdin) as ReadableStream<Uint8Array>,
    ),
  ).closed;
process.exit(0);

import { AsmError } from "../core/errors.js";
import type { AsmEvent } from "../core/events.js";
import type { RunInput, RunOutput } from "../core/run.js";
import type { Session } from "../core/session.js";
import type { TokenUsage } from "../core/token-usage.js";
import type {
  RunOnceOptions,
  RunResult,
  SessionManagerBase,
  StartSessionInput,
} from "../manager/session-manager.js";

/** The agent id of workflow sessions when none is given. */
export const WORKFLOW_AGENT_ID = "workflow-agent";

/**
 * One workflow step: a run's input and options. Without `sessionId` the step is one-shot — a
 * session is created, runs once and is completed (or failed, or cancelled) — and the session
 * attributes (`agentId`, `sessionMetadata`, `context`, `tags`) apply. With `sessionId` the run
 * goes into that active session, which stays open for the next step; session attributes are
 * then a `validation_error` (they would do nothing). Every `executeRun` option (`policy`,
 * `workspace`, `continuation`, `providerOptions`, `onEvent`, `timeoutMs`, `signal`…) and
 * `startRun` option applies.
 */
export interface StepExecuteParams extends RunOnceOptions {
  input: RunInput | string;
  /** Run in this existing, active session (see `setupWorkflowSession`). Default: one-shot. */
  sessionId?: string;
}

/** A tool call of a step, paired from its events. */
export interface StepToolCall {
  toolCallId: string;
  toolName: string;
  input: Record<string, unknown>;
  /** `open` only if the log has no end for it (the manager closes calls with the run). */
  status: "completed" | "failed" | "open";
  output?: unknown;
  errorMessage?: string;
}

/** What a workflow engine keeps of a completed step: plain data, JSON-safe. */
export interface StepResult {
  sessionId: string;
  runId: string;
  /** The run's output as the provider gave it. */
  output: RunOutput;
  /** Its text. */
  content: string;
  tokenUsage: TokenUsage;
  costUsd: number | null;
  stopReason: string;
  durationMs: number;
  model?: string;
  /** Every event of the run, in sequence order. */
  events: AsmEvent[];
  toolCalls: StepToolCall[];
  hasToolCalls: boolean;
  /** The workspace report, when the step had a `workspace` option. */
  workspace?: RunResult["workspace"];
  /** The policy report, when the step had a policy. */
  policy?: RunResult["policy"];
}

/**
 * Executes one workflow step (see `StepExecuteParams`) and resolves with its `StepResult`.
 * A failed, cancelled or timed-out step rejects with the run's `AsmError` (`details.runId`,
 * `details.sessionId`); `classifyError` says what to do about it. A one-shot step's session
 * ends with it; a step in an existing session leaves the session active either way.
 */
export async function stepExecute(
  manager: SessionManagerBase,
  params: StepExecuteParams,
): Promise<StepResult> {
  const { input, sessionId, ...options } = params;
  if (sessionId === undefined) {
    return stepResult(
      await manager.runOnce(input, { ...options, agentId: options.agentId ?? WORKFLOW_AGENT_ID }),
    );
  }
  const {
    agentId,
    sessionMetadata,
    context,
    tags,
    requiredCapabilities,
    optionalCapabilities,
    metadata,
    ...execute
  } = options;
  const ignored = Object.entries({ agentId, sessionMetadata, context, tags })
    .filter(([, value]) => value !== undefined)
    .map(([key]) => key);
  if (ignored.length > 0) {
    throw new AsmError("validation_error", `${ignored.join(", ")} set the attributes of a new session`, {
      details: { sessionId, ignored },
      hint: "give them to setupWorkflowSession, or leave out sessionId for a one-shot step",
    });
  }
  const run = await manager.startRun(sessionId, input, {
    ...(requiredCapabilities ? { requiredCapabilities } : {}),
    ...(optionalCapabilities ? { optionalCapabilities } : {}),
    ...(metadata ? { metadata } : {}),
  });
  return stepResult(await manager.executeRun(run.id, execute));
}

/** A completed run as a `StepResult`: its output, usage, tool calls (paired), events and reports. */
export function stepResult(result: RunResult): StepResult {
  const toolCalls = pairToolCalls(result.events);
  return {
    sessionId: result.sessionId,
    runId: result.runId,
    output: result.output,
    content: result.output.content,
    tokenUsage: result.tokenUsage,
    costUsd: result.costUsd,
    stopReason: result.stopReason,
    durationMs: result.durationMs,
    ...(result.model ? { model: result.model } : {}),
    events: result.events,
    toolCalls,
    hasToolCalls: toolCalls.length > 0,
    ...(result.workspace ? { workspace: result.workspace } : {}),
    ...(result.policy ? { policy: result.policy } : {}),
  };
}

/** Creates and activates a session for a multi-step workflow; resolves with its id. */
export async function setupWorkflowSession(
  manager: SessionManagerBase,
  attributes: Partial<StartSessionInput> = {},
): Promise<string> {
  const session = await manager.startSession({
    ...attributes,
    agentId: attributes.agentId ?? WORKFLOW_AGENT_ID,
  });
  await manager.activateSession(session.id);
  return session.id;
}

/** How a workflow ended, for `completeWorkflowSession`. */
export type WorkflowSessionEnd =
  | { status?: "completed" }
  | { status: "failed"; error: unknown }
  | { status: "cancelled"; reason?: string };

/**
 * Ends a workflow's session: `completed` (the default), `failed` with the workflow's error
 * (stored on `session_failed`), or `cancelled` (its runs still going are cancelled first).
 */
export function completeWorkflowSession(
  manager: SessionManagerBase,
  sessionId: string,
  end: WorkflowSessionEnd = {},
): Promise<Session> {
  switch (end.status) {
    case "failed":
      return manager.failSession(sessionId, end.error);
    case "cancelled":
      return manager.cancelSession(sessionId, end.reason);
    default:
      return manager.completeSession(sessionId);
  }
}

function pairToolCalls(events: readonly AsmEvent[]): StepToolCall[] {
  const calls = new Map<string, StepToolCall>();
  for (const event of events) {
    switch (event.type) {
      case "tool_call_started":
        calls.set(event.data.toolCallId, {
          toolCallId: event.data.toolCallId,
          toolName: event.data.toolName,
          input: event.data.toolInput,
          status: "open",
        });
        break;
      case "tool_call_completed":
      case "tool_call_failed": {
        const call = calls.get(event.data.toolCallId);
        if (!call) break;
        call.status = event.type === "tool_call_completed" ? "completed" : "failed";
        if (event.data.toolOutput !== undefined) call.output = event.data.toolOutput;
        if (event.type === "tool_call_failed" && event.data.errorMessage)
          call.errorMessage = event.data.errorMessage;
        break;
      }
    }
  }
  return [...calls.values()];
}

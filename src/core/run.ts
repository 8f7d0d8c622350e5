import type { SerializedAsmError } from "./errors.js";
import type { JsonObject } from "./session.js";
import { assertTransition, type TransitionTable } from "./state-machine.js";
import type { TokenUsage } from "./token-usage.js";

export const RUN_STATUSES = ["pending", "running", "completed", "failed", "cancelled", "timeout"] as const;
export type RunStatus = (typeof RUN_STATUSES)[number];
export type TerminalRunStatus = Exclude<RunStatus, "pending" | "running">;

/**
 * pending → running → completed | failed | cancelled | timeout.
 * A pending run can be cancelled (never started) or fail (rejected before the provider ran).
 */
export const RUN_TRANSITIONS: TransitionTable<RunStatus> = {
  pending: ["running", "cancelled", "failed"],
  running: ["completed", "failed", "cancelled", "timeout"],
  completed: [],
  failed: [],
  cancelled: [],
  timeout: [],
};

/** Every run starts in this status: a store refuses to create one in any other. */
export const INITIAL_RUN_STATUS: RunStatus = "pending";

export function isTerminalRunStatus(status: RunStatus): status is TerminalRunStatus {
  return RUN_TRANSITIONS[status].length === 0;
}

/** A message given to a run as input. (A type alias, so it can be event data as it is.) */
export type InputMessage = {
  role: "user" | "system" | "assistant";
  content: string;
};

/**
 * What a run is asked to do. Providers that talk to a model read `prompt` or `messages`;
 * the shell provider reads `command` (an argv array, never a shell string).
 */
export interface RunInput {
  prompt?: string;
  messages?: InputMessage[];
  command?: string[];
}

/** The final answer of a run. `content` is the text a person would read. */
export interface RunOutput {
  content: string;
  [key: string]: unknown;
}

/** The process executing a run, recorded when it starts so recovery can tell a dead executor. */
export interface RunOwner {
  hostname: string;
  pid: number;
}

/** One execution within a session. Timestamps are ISO 8601 UTC strings. */
export interface Run {
  id: string;
  sessionId: string;
  status: RunStatus;
  input: RunInput;
  output?: RunOutput;
  error?: SerializedAsmError;
  metadata: JsonObject;
  turnCount: number;
  tokenUsage: TokenUsage;
  /** What the run cost in USD; `null` while unknown (not finished, or no price for the model). */
  costUsd: number | null;
  /** Name of the provider that executed the run. */
  provider?: string;
  /** Provider facts worth keeping: native session/thread id, model. */
  providerMetadata: JsonObject;
  /** Set while (and after) a process executes the run. */
  owner?: RunOwner;
  createdAt: string;
  startedAt?: string;
  endedAt?: string;
}

/**
 * Returns the run in its new status; throws `invalid_transition` if the move is illegal.
 * Entering `running` stamps `startedAt`; entering a terminal status stamps `endedAt`.
 */
export function transitionRun(run: Run, to: RunStatus, now: Date = new Date()): Run {
  assertTransition(RUN_TRANSITIONS, "run", run.id, run.status, to);
  const stamp = now.toISOString();
  return {
    ...run,
    status: to,
    ...(to === "running" ? { startedAt: stamp } : {}),
    ...(isTerminalRunStatus(to) ? { endedAt: stamp } : {}),
  };
}

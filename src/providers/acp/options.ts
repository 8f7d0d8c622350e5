import { z } from "zod";
import type { PermissionMode } from "../../core/permission-mode.js";
import type { JsonObject } from "../../core/session.js";
import { parseWith } from "../../core/validation.js";
import { agentEnvSchema, permissionModeSchema, timerMsSchema } from "../shared/agent-options.js";
import type { AcpApprovals } from "./approvals.js";
import { ACP_PRESET_NAMES, type AcpPresetName } from "./presets.js";

/**
 * File access the client offers the agent (`fs/read_text_file`, `fs/write_text_file`). Only the
 * handlers given are advertised in `initialize`: by default none, so the agent uses its own file
 * tools (Gemini's `write_file` to a new file fails when the client advertises reads and answers
 * "not found" for it, and skips its permission prompt on the way).
 */
export interface AcpFileSystem {
  readTextFile?(path: string): Promise<string>;
  writeTextFile?(path: string, content: string): Promise<void>;
}

/**
 * Options of an `AcpAdapter`: which agent to run and how its permission requests are decided.
 */
export interface AcpAdapterOptions {
  /**
   * The agent: a preset name (`gemini`, `claude-code`, `codex`; see `ACP_PRESETS`) or its argv
   * (`["opencode", "acp"]`), spawned directly, never through a shell. Required.
   */
  agent: AcpPresetName | readonly string[];
  /** Working directory of the agent process and its sessions (absolute once resolved). Default `process.cwd()`. */
  cwd?: string;
  /** Environment variables for the agent, merged over `process.env` (and over the preset's). Default none. */
  env?: Record<string, string>;
  /**
   * How `session/request_permission` is answered when the run's tool rules do not decide it:
   * `dangerously_skip_permissions` and `full_auto` allow; `accept_edits` allows read, search and
   * edit calls; `plan` allows read and search calls and refuses the rest; `default` asks
   * `approvals` (refused without them: nobody can answer a headless run). Default `"default"`.
   */
  permissionMode?: PermissionMode;
  /** Tools always allowed, by canonical name (`Read`, `Edit`, `Bash`… from the call's kind). Default none. */
  allowedTools?: string[];
  /** Tools always refused, by canonical name. Default none. */
  deniedTools?: string[];
  /**
   * Durable approvals for the requests the rules leave open (see `approvalGateApprovals`): the
   * request is logged as `tool_approval_requested` and the agent waits for the decision.
   * Default none.
   */
  approvals?: AcpApprovals;
  /** File access offered to the agent; see `AcpFileSystem`. Default none. */
  fileSystem?: AcpFileSystem;
  /** A session mode to switch to after the session starts (`session/set_mode`, e.g. Gemini's `yolo`). Default none. */
  sessionMode?: string;
  /** `authenticate` with this method (and `_meta`) before the first session, for agents that need it (codex-acp). Default none. */
  authenticate?: { methodId: string; meta?: Record<string, unknown> };
  /** After a cancel, milliseconds the agent has to end its turn (`session/cancel`) before its process group is stopped. Default `2000`. */
  cancelGraceMs?: number;
  /** Milliseconds between SIGTERM and SIGKILL to the agent's process group. Default `2000`. */
  killGraceMs?: number;
  /** Messages longer than this many bytes are skipped and reported as `parse_error`. Default 1 MiB. */
  maxLineBytes?: number;
}

/** Per-run options: the `acp` namespace of `executeRun({ providerOptions })`. Unknown keys are a `validation_error`. */
export interface AcpRunOptions {
  /**
   * Continue this agent session: `session/resume` when the agent offers it, else `session/load`
   * (its replayed history is not reported again); a `validation_error` when it offers neither, or
   * for the `gemini` preset, whose `session/load` loses the history (gemini-cli#28775).
   */
  resumeSessionId?: string;
  permissionMode?: PermissionMode;
  sessionMode?: string;
}

export const ACP_ADAPTER_DEFAULTS = Object.freeze({
  permissionMode: "default" as PermissionMode,
  cancelGraceMs: 2000,
  killGraceMs: 2000,
  maxLineBytes: 1_048_576,
});

const noNul = z.string().refine((value) => !value.includes("\0"), "must not contain NUL characters");

export const acpOptionsSchema = z.strictObject({
  agent: z.union([z.enum(ACP_PRESET_NAMES), z.array(noNul.min(1)).min(1)]),
  cwd: noNul.min(1).optional(),
  env: agentEnvSchema.optional(),
  permissionMode: permissionModeSchema.optional(),
  allowedTools: z.array(noNul.min(1)).optional(),
  deniedTools: z.array(noNul.min(1)).optional(),
  approvals: z
    .custom<AcpApprovals>(
      (value) =>
        typeof value === "object" &&
        value !== null &&
        "decide" in value &&
        typeof value.decide === "function",
      "must have a decide() function",
    )
    .optional(),
  fileSystem: z
    .custom<AcpFileSystem>((value) => typeof value === "object" && value !== null, "must be an object")
    .optional(),
  sessionMode: noNul.min(1).optional(),
  authenticate: z
    .strictObject({ methodId: noNul.min(1), meta: z.record(z.string(), z.unknown()).optional() })
    .optional(),
  cancelGraceMs: timerMsSchema.optional(),
  killGraceMs: timerMsSchema.optional(),
  maxLineBytes: z.number().int().positive().optional(),
});

export const acpRunOptionsSchema = z.strictObject({
  resumeSessionId: noNul.min(1).optional(),
  permissionMode: permissionModeSchema.optional(),
  sessionMode: noNul.min(1).optional(),
});

/** Validates the adapter's options; throws `validation_error`. */
export function parseAcpOptions(options: AcpAdapterOptions): AcpAdapterOptions {
  return parseWith(acpOptionsSchema, options, "acp adapter options");
}

/** Validates the run's `acp` options. */
export function parseAcpRunOptions(options: JsonObject): AcpRunOptions {
  return parseWith(acpRunOptionsSchema, options, "acp run options");
}

import { AsmError, isErrorCode } from "../core/errors.js";
import type { AsmEvent } from "../core/events.js";
import type { TokenUsage } from "../core/token-usage.js";
import { RUN_EXTENSION_SPECIFICATION, type RunExtension } from "../ports/run-extension.js";
import { type RunEndStatus, runEndStatus } from "./run-end.js";

/** Which run a hook call is about. */
export interface RunTelemetryInfo {
  sessionId: string;
  runId: string;
  agentId: string;
  /** The adapter executing the run (a router counts as one). */
  provider: string;
}

export interface RunStartInfo extends RunTelemetryInfo {
  /** ISO 8601. */
  startedAt: string;
}

export interface RunEndInfo extends RunTelemetryInfo, RunEndStatus {
  durationMs: number;
  tokenUsage: TokenUsage;
  costUsd: number | null;
  model?: string;
}

export interface RunErrorInfo extends RunTelemetryInfo {
  error: AsmError;
  /** True when the error ended the run; false for one the run went on after (a failover, a skipped line). */
  fatal: boolean;
}

export interface RunUsageInfo extends RunTelemetryInfo {
  tokenUsage: TokenUsage;
  costUsd: number | null;
  model?: string;
}

/**
 * Plain callbacks for runs, for users without OpenTelemetry. Each is optional and called
 * synchronously; a throw is reported as a process warning and never affects the run.
 */
export interface TelemetryHooks {
  /** The run is running; nothing was sent to the provider yet. */
  onRunStart?(info: RunStartInfo): void;
  /** The run ended (before its terminal event is stored): how, how long, what it used. */
  onRunEnd?(info: RunEndInfo): void;
  /**
   * An error: each `error_occurred` event of the run (`fatal` as the event says), and the
   * failure or timeout that ended it (`fatal: true`).
   */
  onError?(info: RunErrorInfo): void;
  /** The run's total usage and cost, once, at its end (every outcome: failed runs spent tokens too). */
  onUsage?(info: RunUsageInfo): void;
}

export interface TelemetryHooksOptions {
  /** The extension's name, unique among a manager's extensions. Default `"telemetry-hooks"`. */
  name?: string;
}

/**
 * A run extension that calls `hooks` at a run's start, its errors and its end:
 * `new SessionManager({ extensions: [telemetryHooks({ onRunEnd: (run) => log(run) })] })`.
 */
export function telemetryHooks(hooks: TelemetryHooks, options: TelemetryHooksOptions = {}): RunExtension {
  const name = options.name ?? "telemetry-hooks";
  const call = <T>(hook: ((info: T) => void) | undefined, info: T): void => {
    if (!hook) return;
    try {
      hook(info);
    } catch (error) {
      process.emitWarning(`a ${name} hook threw: ${error instanceof Error ? error.message : String(error)}`, {
        code: "ASM_TELEMETRY_HOOK",
      });
    }
  };
  return {
    specificationVersion: RUN_EXTENSION_SPECIFICATION,
    name,
    start: ({ run, session, provider }) => {
      const base: RunTelemetryInfo = {
        sessionId: session.id,
        runId: run.id,
        agentId: session.agentId,
        provider: provider.name,
      };
      const startedAt = performance.now();
      call(hooks.onRunStart?.bind(hooks), { ...base, startedAt: new Date().toISOString() });
      return {
        ...(hooks.onError
          ? {
              onEvent: (event: AsmEvent) => {
                if (event.type !== "error_occurred") return;
                const { errorCode, errorMessage, details, fatal } = event.data;
                const error = new AsmError(
                  isErrorCode(errorCode) ? errorCode : "unknown_error",
                  errorMessage,
                  {
                    ...(details ? { details } : {}),
                  },
                );
                call(hooks.onError?.bind(hooks), { ...base, error, fatal: fatal ?? true });
              },
            }
          : {}),
        finish: (end) => {
          const status = runEndStatus(end);
          const costUsd = end.cost?.usd ?? null;
          const model = end.model ? { model: end.model } : {};
          if (status.error) call(hooks.onError?.bind(hooks), { ...base, error: status.error, fatal: true });
          call(hooks.onUsage?.bind(hooks), { ...base, tokenUsage: end.tokenUsage, costUsd, ...model });
          call(hooks.onRunEnd?.bind(hooks), {
            ...base,
            status: status.status,
            ...(status.errorType ? { errorType: status.errorType } : {}),
            ...(status.error ? { error: status.error } : {}),
            ...(status.interrupted ? { interrupted: true } : {}),
            durationMs: performance.now() - startedAt,
            tokenUsage: end.tokenUsage,
            costUsd,
            ...model,
          });
          return undefined;
        },
      };
    },
  };
}

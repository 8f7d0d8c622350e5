import type { Capability } from "../../core/capabilities.js";
import { AsmError } from "../../core/errors.js";
import type {
  EventSink,
  ExecuteRequest,
  ExecuteResult,
  ProviderAdapter,
} from "../../ports/provider-adapter.js";
import { PROVIDER_ADAPTER_SPECIFICATION } from "../../ports/provider-adapter.js";
import { ActiveRuns } from "../active-runs.js";
import { requireProcessGroups } from "../shared/process-group.js";
import { ownProviderOptions } from "../shared/provider-request.js";
import { runCommand } from "./command-run.js";
import { SHELL_CAPABILITIES } from "./descriptor.js";
import {
  commandFromInput,
  parseShellRunOptions,
  type ResolvedShellOptions,
  resolveRunCwd,
  resolveShellAdapterOptions,
  type ShellAdapterOptions,
} from "./options.js";

/**
 * Runs a command as a provider (POSIX only: it relies on process groups).
 *
 * `run.input.command` is an argv array spawned directly, never through a shell; `run.input.prompt`
 * is run as `[shell, "-c", prompt]` only with `allowShellString: true`. Each run emits
 * `run_started`, `tool_call_started`, a `message_streamed` per stdout/stderr chunk, then
 * `tool_call_completed` + `message_received` (exit code in `successExitCodes`: resolves) or
 * `tool_call_failed` (rejects with `command_failed`, `timeout` or `cancelled`). A program that
 * cannot be started rejects (`command_not_found`, `command_failed`) without emitting anything.
 *
 * The command runs in its own process group, and a run settles only once that group is empty:
 * cancel and timeout send SIGTERM to the group and SIGKILL after `killGraceMs`, and processes the
 * command leaves behind when it exits are stopped the same way.
 */
export class ShellAdapter implements ProviderAdapter {
  readonly specificationVersion = PROVIDER_ADAPTER_SPECIFICATION;
  readonly name = "shell";
  readonly capabilities: readonly Capability[] = SHELL_CAPABILITIES;
  readonly #options: ResolvedShellOptions;
  readonly #active = new ActiveRuns();

  /**
   * Throws `validation_error` for invalid options or a `cwd` that is not an existing directory, and
   * `capability_not_supported` on Windows, which has no process groups to stop a command tree with.
   */
  constructor(options: ShellAdapterOptions = {}) {
    requireProcessGroups("shell");
    this.#options = resolveShellAdapterOptions(options);
  }

  async execute(request: ExecuteRequest, sink: EventSink, signal: AbortSignal): Promise<ExecuteResult> {
    // Tracked before anything is awaited, so cancel(runId) works from the first moment.
    return this.#active.runTracked(request.run.id, signal, async (runSignal) => {
      const argv = commandFromInput(request.run.input, this.#options);
      const runOptions = parseShellRunOptions(ownProviderOptions(request, this.name));
      const cwd = await resolveRunCwd(this.#options.cwd, runOptions.cwd);
      if (runSignal.aborted) {
        throw new AsmError("cancelled", `run ${request.run.id} was cancelled before it started`, {
          details: { runId: request.run.id },
        });
      }
      return await runCommand(
        {
          argv,
          cwd,
          env: { ...process.env, ...this.#options.env, ...runOptions.env },
          timeoutMs: runOptions.timeoutMs ?? this.#options.timeoutMs,
          maxOutputBytes: this.#options.maxOutputBytes,
          killGraceMs: this.#options.killGraceMs,
          successExitCodes: this.#options.successExitCodes,
        },
        sink,
        runSignal,
      );
    });
  }

  /**
   * Cancels the run. Resolves (true) only once `execute` has rejected with `cancelled`, which it
   * does once the process group is gone; false for a run this adapter is not executing.
   */
  async cancel(runId: string): Promise<boolean> {
    return this.#active.cancelAndWait(runId);
  }
}

import { constants } from "node:os";
import type { ContinuationMode, ContinuityRecord } from "../../continuity/continuity-extension.js";
import { AsmError } from "../../core/errors.js";
import type { AsmEvent } from "../../core/events.js";
import type { PermissionMode } from "../../core/permission-mode.js";
import type { RunInput } from "../../core/run.js";
import type { ExecuteRunOptions } from "../../manager/session-manager.js";
import type { DurableSessionStore } from "../../ports/durable-store.js";
import type { ProviderAdapter } from "../../ports/provider-adapter.js";
import { cliAdapterOptions } from "../../providers/cli-face.js";
import type { CommonCliOption, ProviderDescriptor } from "../../providers/provider-descriptor.js";
import { checkCredentials, getProvider } from "../../providers/registry.js";
import { killRegisteredGroups } from "../../providers/shared/process-group.js";
import type { TextRendererName } from "../../rendering/renderer-names.js";
import { SessionServer } from "../../runtime/session-server.js";
import { SessionManager } from "../../session-manager.js";
import { Interruption } from "../interruption.js";
import { openStore } from "../open-store.js";
import { EXIT, printJson, reportError, signalExitCode, styleFor } from "../output.js";
import { costLine, LiveRender } from "../render.js";
import { splitWords } from "../split-words.js";

/** What a POSIX shell (and `docker run`) exits with for a command it cannot find. */
const COMMAND_NOT_FOUND_EXIT = 127;

export interface RunCommandOptions {
  provider: string;
  model?: string;
  permissionMode?: PermissionMode;
  executable?: string;
  systemPrompt?: string;
  maxTurns?: string;
  allowedTools?: string;
  deniedTools?: string;
  /** `--provider-option key=value`, repeatable. */
  providerOption?: string[];
  db?: string;
  json?: boolean;
  cwd?: string;
  timeout?: number;
  shell?: boolean;
  /** `--agent-command <argv>`: the agent a provider with `cli.agentCommandOption` (ACP) runs. */
  agentCommand?: string;
  /** `--no-redact` sets it false. Default true: secrets are redacted before anything is stored. */
  redact?: boolean;
  /** `--session <id>`: run in this existing session, through its server's queue. */
  session?: string;
  /** `--queue`: enqueue the run for `asm worker` processes (PostgreSQL) and follow it. */
  queue?: boolean;
  /**
   * `--continue [auto|native|replay]` (with `--session`): carry the session's conversation into
   * the run (`executeRun({ continuation })`); the flag alone is `auto`.
   */
  continue?: string | true;
  /** `--render compact|verbose|studio`. Default studio. */
  render?: TextRendererName;
  /** `--log-file <path>`: the rendered output, plain text. */
  logFile?: string;
  /** `--jsonl-file <path>`: every event, one JSON per line. */
  jsonlFile?: string;
  /** `--workspace`: snapshot the run's directory (`--cwd`, else the current one) before and after it. */
  workspace?: boolean;
  /** `--rollback-on-failure` (with `--workspace`): put the directory back when the run does not complete. */
  rollbackOnFailure?: boolean;
}

/**
 * `asm run`: one session, one run, rendered live. Ctrl-C — or SIGTERM, SIGHUP, SIGQUIT — cancels
 * the run cleanly (recorded, the provider's processes gone, exit 128 + the signal's number); a
 * second one SIGKILLs the provider's processes instead of waiting out their grace, and the
 * cancel is still recorded. A stdout nobody reads anymore (`| head`) cancels the run quietly.
 */
export async function runCommand(words: string[], options: RunCommandOptions): Promise<number> {
  const json = options.json === true;
  const interruption = new Interruption({ onRepeat: () => killProviderProcesses(json) });
  interruption.signal.addEventListener("abort", () => announceCancel(interruption, json), { once: true });
  const live = new LiveRender({ ...options, json });
  let store: Awaited<ReturnType<typeof openStore>> | undefined;
  let commandProvider = false;
  let runId: string | undefined;
  try {
    const { adapter, takesCommand } = await createProvider(options);
    commandProvider = takesCommand;
    store = await openStore(options.db);
    const manager = new SessionManager({ store, adapter, redaction: options.redact !== false });
    // A command provider takes argv as typed (or, with --shell, one command line); the others a prompt.
    const { continuation, prompt } = continuationOf(options, words);
    const input = takesCommand && !options.shell ? { command: prompt } : { prompt: prompt.join(" ") };
    const runOptions = {
      ...(options.timeout ? { timeoutMs: options.timeout } : {}),
      ...(continuation ? { continuation } : {}),
      ...workspaceOptionOf(options),
      onEvent: (event: AsmEvent) => {
        runId ??= event.runId;
        if (json) printJson(event);
        live.push(event);
      },
    };
    if (options.queue) {
      const { runQueued } = await import("./queue.js");
      await runQueued(manager, options.db, options.session, input, {
        ...(options.timeout ? { timeoutMs: options.timeout } : {}),
        onEvent: runOptions.onEvent,
        signal: interruption.signal,
      });
    } else if (options.session) {
      await runInSession(manager, options.session, input, runOptions, interruption.signal, json);
    } else {
      await manager.runOnce(input, { ...runOptions, signal: interruption.signal });
    }
    await live.finish();
    if (!json) await printCost(store, runId);
    if (!json) await printWorkspace(store, runId);
    return EXIT.ok;
  } catch (error) {
    await live.finish();
    // A failed or cancelled run spent tokens too; a closed stdout takes no more lines.
    if (!json && interruption.interrupt?.kind !== "stdout_closed") {
      await printCost(store, runId).catch(() => undefined);
      await printWorkspace(store, runId).catch(() => undefined);
    }
    // A closed stdout is its reader saying "enough": nothing to report, and nowhere to.
    const code = interruption.interrupt?.kind === "stdout_closed" ? EXIT.failed : reportError(error, json);
    return interruption.exitCode ?? (commandProvider ? commandExitCode(error) : undefined) ?? code;
  } finally {
    await store?.close();
    interruption.dispose();
  }
}

/**
 * `asm run --session <id>`: the run goes through a SessionServer on the existing session, so it
 * waits behind the runs already queued for the session (a server of this process runs them
 * first, in order) and the session stays open for the next run. A signal cancels the run whether
 * it is queued or executing; closing the server leaves the runs queued after it for the next one.
 */
async function runInSession(
  manager: SessionManager,
  sessionId: string,
  input: RunInput,
  options: ExecuteRunOptions,
  signal: AbortSignal,
  json: boolean,
): Promise<void> {
  const server = await SessionServer.start({ manager, sessionId });
  try {
    const ahead = server.status().queuedCount + server.status().inFlightCount;
    const runId = await server.submitRun(input, options);
    if (ahead > 0 && !json) process.stderr.write(`asm: run ${runId} queued behind ${ahead} run(s)\n`);
    const cancel = () => void server.cancelRun(runId, "interrupted").catch(() => undefined);
    signal.addEventListener("abort", cancel, { once: true });
    try {
      const result = await server.awaitRun(runId, { timeoutMs: Number.POSITIVE_INFINITY });
      if (result.continuity && !json) process.stderr.write(`asm: ${continuityLine(result.continuity)}\n`);
    } finally {
      signal.removeEventListener("abort", cancel);
    }
  } finally {
    await server.close();
  }
}

const CONTINUATION_MODES: readonly string[] = ["auto", "native", "replay"];

/**
 * The `continuation` `--continue` asks for, and the prompt's words. `--continue` takes an optional
 * mode, so a first word that is not a mode (`--continue what next`) is the prompt's, not a mode.
 * Without `--session` there is no conversation to continue: a `validation_error`.
 */
function continuationOf(
  options: RunCommandOptions,
  words: string[],
): { continuation: ContinuationMode | undefined; prompt: string[] } {
  const given = options.continue;
  if (given === undefined) return { continuation: undefined, prompt: words };
  if (!options.session) {
    throw new AsmError("validation_error", "--continue needs --session: it continues an existing session", {
      hint: "pass --session <id> (asm sessions list shows them)",
    });
  }
  if (given !== true && CONTINUATION_MODES.includes(given)) {
    return { continuation: given as ContinuationMode, prompt: words };
  }
  return { continuation: "auto", prompt: given === true ? words : [given, ...words] };
}

/** How the run continued its session, in one line. */
function continuityLine(record: ContinuityRecord): string {
  if (record.mode === "native") {
    return `continued ${record.provider}'s own session ${record.providerSessionId}`;
  }
  if (record.mode === "replay") {
    return `continued by replay: ${record.messages} messages (~${record.approxTokens} tokens) of ${record.fromRuns?.length ?? 0} earlier runs, ${record.droppedMessages} older left out`;
  }
  return "nothing to continue: the session has no earlier conversation";
}

/**
 * The run's cost line (see `costLine`), from the stored run: the cost extension records the
 * figure's source and any warning on every run it prices, completed or not.
 */
async function printCost(store: DurableSessionStore | undefined, runId: string | undefined): Promise<void> {
  if (store === undefined || runId === undefined) return;
  const line = costLine(await store.getRun(runId), styleFor(process.stdout));
  if (line !== undefined) process.stdout.write(`${line}\n`);
}

/** The `workspace` run option `--workspace` and `--rollback-on-failure` ask for. */
function workspaceOptionOf(options: RunCommandOptions): Pick<ExecuteRunOptions, "workspace"> {
  if (!options.workspace) {
    if (options.rollbackOnFailure) {
      throw new AsmError("validation_error", "--rollback-on-failure needs --workspace", {
        hint: "add --workspace: the directory is snapshotted before the run so it can be put back",
      });
    }
    return {};
  }
  return {
    workspace: { path: options.cwd ?? process.cwd(), rollbackOnFailure: options.rollbackOnFailure === true },
  };
}

/**
 * What the run changed in its workspace, from the stored run (`run.metadata.workspace`, written
 * whatever the outcome): files, lines and paths, and the rollback when there was one.
 */
async function printWorkspace(
  store: DurableSessionStore | undefined,
  runId: string | undefined,
): Promise<void> {
  if (store === undefined || runId === undefined) return;
  const recorded = (await store.getRun(runId)).metadata.workspace;
  if (typeof recorded !== "object" || recorded === null) return;
  const { backend, diff, rollback, error } = recorded as {
    backend?: string;
    diff?: { filesChanged: number; insertions: number; deletions: number; paths: string[] };
    rollback?: { restored: number; removed: number };
    error?: { code?: string; message?: string };
  };
  const lines: string[] = [];
  if (diff) {
    const shown = diff.paths.slice(0, 10).join(", ");
    const more = diff.paths.length > 10 ? ` and ${diff.paths.length - 10} more` : "";
    lines.push(
      `workspace (${backend}): ${diff.filesChanged} files changed, +${diff.insertions} -${diff.deletions}${shown ? `: ${shown}${more}` : ""}`,
    );
  }
  if (rollback) {
    lines.push(
      `workspace rolled back: ${rollback.restored} files restored, ${rollback.removed} created files removed`,
    );
  }
  if (error) lines.push(`workspace: ${error.message ?? "failed"} [${error.code ?? "unknown_error"}]`);
  if (lines.length > 0) process.stdout.write(`${lines.join("\n")}\n`);
}

/**
 * A command provider's failure exits as a shell would report the command (like `docker run`):
 * its own exit code, 128 + the number of the signal that killed it, 127 when it was not found.
 * `undefined` for any other failure, which keeps the CLI's own exit code.
 */
function commandExitCode(error: unknown): number | undefined {
  if (!AsmError.is(error)) return undefined;
  if (error.code === "command_not_found") return COMMAND_NOT_FOUND_EXIT;
  if (error.code !== "command_failed") return undefined;
  const { exitCode, signal } = error.details;
  if (typeof exitCode === "number" && exitCode > 0) return exitCode;
  if (typeof signal === "string" && signal in constants.signals)
    return signalExitCode(signal as NodeJS.Signals);
  return undefined;
}

/**
 * The first signal, said at once (the provider may take its grace to stop), with what a second
 * one does — as `docker` does. Nothing for a closed stdout, which nobody reads.
 */
function announceCancel(interruption: Interruption, json: boolean): void {
  const interrupt = interruption.interrupt;
  if (json || interrupt?.kind !== "signal") return;
  const again = interrupt.signal === "SIGINT" ? "Ctrl-C again" : `${interrupt.signal} again`;
  process.stderr.write(`asm: cancelling the run (${again} stops the provider's processes now)\n`);
}

/** The user asked again: the run's processes get SIGKILL now rather than the rest of their grace. */
function killProviderProcesses(json: boolean): void {
  if (killRegisteredGroups() > 0 && !json) {
    process.stderr.write("asm: stopping the provider's processes now (SIGKILL)\n");
  }
}

/** The flags and `ASM_<PROVIDER>_…` variables of the provider's common options, by option. */
function commonOptions(options: RunCommandOptions): Partial<Record<CommonCliOption, string>> {
  const given: Partial<Record<CommonCliOption, string | undefined>> = {
    executable: options.executable,
    model: options.model,
    permissionMode: options.permissionMode,
    cwd: options.cwd,
    systemPrompt: options.systemPrompt,
    maxTurns: options.maxTurns,
    allowedTools: options.allowedTools,
    deniedTools: options.deniedTools,
  };
  return Object.fromEntries(Object.entries(given).filter(([, value]) => value !== undefined));
}

/**
 * `--agent-command` as the `--provider-option` entry of the provider's agent option: a single
 * word is a preset's name or a lone executable (the adapter's schema tells which it takes), more
 * words are the argv, split as a POSIX shell would split them but never run through one.
 */
function agentCommandEntry(descriptor: ProviderDescriptor, agentCommand: string | undefined): string[] {
  if (agentCommand === undefined) return [];
  const option = descriptor.cli.agentCommandOption;
  if (!option) {
    throw new AsmError(
      "validation_error",
      `--agent-command is for the acp provider, not ${descriptor.name}`,
      {
        hint: "drop --agent-command, or run the agent with --provider acp --agent-command <argv>",
      },
    );
  }
  const words = splitWords(agentCommand);
  if (words.length === 0) {
    throw new AsmError("validation_error", "--agent-command is empty", {
      hint: "pass a preset (gemini, claude-code, codex) or the agent's command line",
    });
  }
  return [
    `${option}=${words.length === 1 && !agentCommand.includes("/") ? words[0] : JSON.stringify(words)}`,
  ];
}

/**
 * The adapter the command line asks for, through the provider registry: its flags, variables
 * and `--provider-option` entries validated against the provider's schema, and its credentials
 * checked before anything starts (an explicit executable answers for its own login).
 */
async function createProvider(
  options: RunCommandOptions,
): Promise<{ adapter: ProviderAdapter; takesCommand: boolean }> {
  const descriptor = getProvider(options.provider);
  const takesCommand = descriptor.cli.input === "command";
  if (options.shell && !takesCommand) {
    throw new AsmError("validation_error", `--shell is for the shell provider, not ${descriptor.name}`, {
      hint: "drop --shell, or run the command with --provider shell --shell",
    });
  }
  const adapterOptions = cliAdapterOptions(descriptor, {
    options: commonOptions(options),
    providerOptions: [
      ...(options.providerOption ?? []),
      ...agentCommandEntry(descriptor, options.agentCommand),
    ],
  });
  const credentials = checkCredentials(descriptor.name, {
    ...(typeof adapterOptions.executablePath === "string"
      ? { executablePath: adapterOptions.executablePath }
      : {}),
  });
  if (!credentials.ok) throw credentials.error;
  const adapter = await descriptor.create(
    options.shell ? { ...adapterOptions, allowShellString: true } : adapterOptions,
  );
  return { adapter, takesCommand };
}

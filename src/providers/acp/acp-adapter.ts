import path from "node:path";
import { Readable, Writable } from "node:stream";
import { setTimeout as sleep } from "node:timers/promises";
import type {
  InitializeResponse,
  PermissionOption,
  PromptResponse,
  RequestPermissionRequest,
  RequestPermissionResponse,
} from "@agentclientprotocol/sdk";
import type { Capability } from "../../core/capabilities.js";
import { AsmError } from "../../core/errors.js";
import type { PermissionMode } from "../../core/permission-mode.js";
import type {
  EventSink,
  ExecuteRequest,
  ExecuteResult,
  ProviderAdapter,
} from "../../ports/provider-adapter.js";
import { PROVIDER_ADAPTER_SPECIFICATION } from "../../ports/provider-adapter.js";
import { ActiveRuns } from "../active-runs.js";
import { promptFromInput } from "../shared/agent-options.js";
import { CliProcess } from "../shared/cli-process.js";
import { checkCliPaths } from "../shared/cli-run.js";
import { toolInputObject } from "../shared/content.js";
import { createJsonlFilter } from "../shared/jsonl-reader.js";
import { requireProcessGroups } from "../shared/process-group.js";
import {
  cancelledError,
  parseErrorEvent,
  providerFailure,
  sdkNotInstalled,
  spawnFailure,
} from "../shared/provider-failures.js";
import { ownProviderOptions } from "../shared/provider-request.js";
import type { AcpApprovals } from "./approvals.js";
import { ACP_CAPABILITIES, ACP_IDENTITY } from "./descriptor.js";
import { AcpEventMapper, promptModel } from "./event-mapper.js";
import {
  ACP_ADAPTER_DEFAULTS,
  type AcpAdapterOptions,
  type AcpFileSystem,
  type AcpRunOptions,
  parseAcpOptions,
  parseAcpRunOptions,
} from "./options.js";
import { ACP_PRESETS, type AcpPreset } from "./presets.js";

const PROVIDER = ACP_IDENTITY;
const SDK_PACKAGE = "@agentclientprotocol/sdk";
type Sdk = typeof import("@agentclientprotocol/sdk");

/** How long an exited agent's connection may take to reject the pending request itself. */
const AGENT_EXIT_SETTLE_MS = 200;
const AGENT_EXITED = Symbol("agent exited");

/** JSON-RPC's "auth required" (ACP), "method not found". */
const AUTH_REQUIRED = -32000;
const METHOD_NOT_FOUND = -32601;

async function loadSdk(): Promise<Sdk> {
  try {
    return await import(SDK_PACKAGE);
  } catch (error) {
    throw sdkNotInstalled(PROVIDER, SDK_PACKAGE, error);
  }
}

interface ResolvedAcpOptions {
  command: string[];
  preset?: AcpPreset;
  cwd: string;
  env: Readonly<Record<string, string>>;
  permissionMode: PermissionMode;
  allowedTools: readonly string[];
  deniedTools: readonly string[];
  approvals?: AcpApprovals;
  fileSystem?: AcpFileSystem;
  sessionMode?: string;
  authenticate?: { methodId: string; meta?: Record<string, unknown> };
  cancelGraceMs: number;
  killGraceMs: number;
  maxLineBytes: number;
}

function resolveOptions(input: AcpAdapterOptions): ResolvedAcpOptions {
  const options = parseAcpOptions(input);
  const preset = typeof options.agent === "string" ? ACP_PRESETS[options.agent] : undefined;
  const cwd = path.resolve(options.cwd ?? process.cwd());
  const command = preset ? preset.command() : [...(options.agent as readonly string[])];
  return {
    command,
    ...(preset ? { preset } : {}),
    cwd,
    env: Object.freeze({ ...(preset?.env ?? {}), ...options.env }),
    permissionMode: options.permissionMode ?? ACP_ADAPTER_DEFAULTS.permissionMode,
    allowedTools: Object.freeze([...(options.allowedTools ?? [])]),
    deniedTools: Object.freeze([...(options.deniedTools ?? [])]),
    ...(options.approvals ? { approvals: options.approvals } : {}),
    ...(options.fileSystem ? { fileSystem: options.fileSystem } : {}),
    ...(options.sessionMode ? { sessionMode: options.sessionMode } : {}),
    ...(options.authenticate ? { authenticate: options.authenticate } : {}),
    cancelGraceMs: options.cancelGraceMs ?? ACP_ADAPTER_DEFAULTS.cancelGraceMs,
    killGraceMs: options.killGraceMs ?? ACP_ADAPTER_DEFAULTS.killGraceMs,
    maxLineBytes: options.maxLineBytes ?? ACP_ADAPTER_DEFAULTS.maxLineBytes,
  };
}

/** An ACP JSON-RPC error as the SDK throws it. */
function rpcError(error: unknown): { code: number; message: string; data?: unknown } | undefined {
  if (typeof error !== "object" || error === null || !("code" in error) || typeof error.code !== "number")
    return undefined;
  const message = "message" in error && typeof error.message === "string" ? error.message : "";
  return { code: error.code, message, ...("data" in error ? { data: error.data } : {}) };
}

/**
 * Runs any Agent Client Protocol agent over stdio with `@agentclientprotocol/sdk` (2.x, an
 * optional peer): `initialize` (no client file-system or terminal capabilities unless
 * `fileSystem` gives handlers), `authenticate` when asked, `session/new` (or `session/resume` /
 * `session/load` for `resumeSessionId`), `session/set_mode` when asked, then one
 * `session/prompt` per run. The agent is spawned in its own process group with `cwd` as its
 * working directory (Gemini keeps its chats by the process's cwd), never through a shell; one
 * process per run.
 *
 * Every message line is checked before the SDK reads it: a line that is not a JSON object, or is
 * too long, is reported as `parse_error` (not fatal) and dropped. Events: see `AcpEventMapper`.
 *
 * Permission requests (`session/request_permission`) are decided in order by: the run's tool
 * rules (`request.toolRules`, by canonical name: denied → refused, not in an allow list →
 * refused), the adapter's `deniedTools` / `allowedTools`, then `permissionMode` (see
 * `AcpAdapterOptions.permissionMode`); what is still open goes to `approvals` (a durable
 * approval the agent waits on), or is refused. Refusals are `tool_call_failed` events with
 * `errorCode: "tool_permission_denied"`.
 *
 * Cancel: `session/cancel`, open permission requests answered `cancelled`; if the turn has not
 * ended `cancelGraceMs` later, the process group is stopped (SIGTERM, SIGKILL after
 * `killGraceMs`). It rejects with `cancelled` once the group is gone.
 *
 * Outcomes: `end_turn`, `max_tokens`, `max_turn_requests` and `refusal` complete the run with
 * that `stopReason` (`output.content`: the text after the last tool call). JSON-RPC errors are
 * typed: -32000 → `provider_authentication_failed`; a code that is an HTTP status (Gemini's ACP
 * mode) → by status (401/403 auth, 429 `provider_rate_limited`, 5xx server errors); others →
 * `provider_error`. An agent that exits mid-turn is `provider_error` with its exit and stderr.
 */
export class AcpAdapter implements ProviderAdapter {
  readonly specificationVersion = PROVIDER_ADAPTER_SPECIFICATION;
  readonly name = PROVIDER.name;
  readonly capabilities: readonly Capability[] = ACP_CAPABILITIES;
  readonly #options: ResolvedAcpOptions;
  readonly #active = new ActiveRuns();

  /** Throws `validation_error` for invalid options, `capability_not_supported` on Windows. */
  constructor(options: AcpAdapterOptions) {
    requireProcessGroups("acp");
    this.#options = resolveOptions(options);
  }

  async execute(request: ExecuteRequest, sink: EventSink, signal: AbortSignal): Promise<ExecuteResult> {
    return this.#active.runTracked(request.run.id, signal, async (runSignal) => {
      const runOptions = parseAcpRunOptions(ownProviderOptions(request, this.name));
      const prompt = promptFromInput(request.run.input, PROVIDER.name);
      const sdk = await loadSdk();
      await checkCliPaths(PROVIDER, this.#options.cwd, this.#options.command[0] ?? "");
      if (runSignal.aborted) throw cancelledError(request.run.id, { phase: "before start" });
      return new AcpRun(this.#options, sdk, request, runOptions, prompt, sink, runSignal).execute();
    });
  }

  /** Cancels the run; resolves true once `execute` has rejected with `cancelled`, false for a run it is not executing. */
  async cancel(runId: string): Promise<boolean> {
    return this.#active.cancelAndWait(runId);
  }
}

/** One run: the agent process, its connection, and how the turn ended. */
class AcpRun {
  readonly #mapper: AcpEventMapper;
  readonly #openPermissions = new Set<(response: RequestPermissionResponse) => void>();
  #cancelled = false;
  #sessionId: string | undefined;
  /** While `session/load` replays history, updates are not the run's. */
  #replaying = false;

  constructor(
    private readonly options: ResolvedAcpOptions,
    private readonly sdk: Sdk,
    private readonly request: ExecuteRequest,
    private readonly runOptions: AcpRunOptions,
    private readonly prompt: string,
    sink: EventSink,
    private readonly signal: AbortSignal,
  ) {
    this.#mapper = new AcpEventMapper(sink, PROVIDER);
  }

  async execute(): Promise<ExecuteResult> {
    const { options, sdk } = this;
    const [command = "", ...args] = options.command;
    const cli = new CliProcess({ command, args, cwd: options.cwd, env: { ...process.env, ...options.env } });
    const filter = createJsonlFilter(
      (problem) => {
        this.#mapper.emit(parseErrorEvent(PROVIDER, problem));
        return undefined;
      },
      { maxLineBytes: options.maxLineBytes },
    );
    cli.child.stdout.pipe(filter);
    const stream = sdk.ndJsonStream(
      Writable.toWeb(cli.child.stdin) as WritableStream<Uint8Array>,
      Readable.toWeb(filter) as ReadableStream<Uint8Array>,
    );
    let connection: { notifyCancel(): void } | undefined;
    let killTimer: NodeJS.Timeout | undefined;
    const onAbort = (): void => {
      this.#cancelled = true;
      for (const answer of this.#openPermissions) answer({ outcome: { outcome: "cancelled" } });
      connection?.notifyCancel();
      // The agent has the grace to end its turn; then its process group is stopped.
      killTimer = setTimeout(
        () => cli.terminate(options.killGraceMs),
        connection ? options.cancelGraceMs : 0,
      );
    };
    let response: PromptResponse | undefined;
    let failure: unknown;
    /** The agent exited before the turn ended: a crash, whatever the connection said. */
    let agentExited = false;
    try {
      const client = this.#client();
      const turn = client.connectWith(stream, async (context) => {
        connection = {
          notifyCancel: () => {
            if (this.#sessionId)
              void context
                .notify(sdk.methods.agent.session.cancel, { sessionId: this.#sessionId })
                .catch(() => {});
          },
        };
        return this.#converse(context);
      });
      this.signal.addEventListener("abort", onAbort, { once: true });
      if (this.signal.aborted) onAbort();
      // An agent that dies mid-turn may leave the request pending: its exit ends the wait.
      const died = cli.exited.then(() => sleep(AGENT_EXIT_SETTLE_MS, AGENT_EXITED, { ref: false }));
      const settled = await Promise.race([turn, died]);
      if (settled === AGENT_EXITED) agentExited = true;
      else response = settled;
    } catch (error) {
      failure = error;
      // A connection that closed under the request: the agent's exit follows at once. An agent
      // that answered with an error stays up.
      agentExited = await Promise.race([
        cli.exited.then(() => true),
        sleep(AGENT_EXIT_SETTLE_MS, false, { ref: false }),
      ]);
    } finally {
      this.signal.removeEventListener("abort", onAbort);
      clearTimeout(killTimer);
      cli.child.stdin.end();
      // The agent exits once its stdin closes; anything left of its group is stopped.
      await Promise.race([cli.exited, sleep(options.killGraceMs, undefined, { ref: false })]);
      await cli.stop(this.#cancelled ? options.killGraceMs : 0);
    }
    this.#mapper.finish(response);
    const details = this.#sessionId ? { providerSessionId: this.#sessionId } : {};
    if (this.#cancelled) throw cancelledError(this.request.run.id, details);
    if (cli.spawnError) throw spawnFailure(PROVIDER, command, cli.spawnError);
    if (agentExited || response === undefined) throw this.#failure(failure, agentExited, cli, details);
    if (response.stopReason === "cancelled") {
      throw providerFailure(PROVIDER, {
        message: `${PROVIDER.displayName} cancelled the turn by itself`,
        kind: "protocol_error",
        details,
      });
    }
    const context = this.#mapper.context;
    const model = promptModel(response);
    return {
      output: { content: this.#mapper.answer },
      stopReason: response.stopReason,
      tokenUsage: this.#mapper.usage,
      ...(this.#sessionId ? { providerSessionId: this.#sessionId } : {}),
      ...(model ? { model } : {}),
      metadata: {
        acp: {
          command: options.command[0] ?? "",
          ...(this.#sessionId ? { sessionId: this.#sessionId } : {}),
          ...(context ? { context: context as Record<string, never> } : {}),
        },
      },
    };
  }

  #client() {
    const { sdk, options } = this;
    let app = sdk
      .client({ name: "agent-session-manager" })
      .onNotification(sdk.methods.client.session.update, ({ params }) => {
        if (this.#replaying || this.#cancelled || params.sessionId !== this.#sessionId) return;
        this.#mapper.handle(params.update);
      })
      .onRequest(sdk.methods.client.session.requestPermission, ({ params, signal }) =>
        this.#permission(params, signal),
      );
    const files = options.fileSystem;
    if (files?.readTextFile) {
      const read = files.readTextFile.bind(files);
      app = app.onRequest(sdk.methods.client.fs.readTextFile, async ({ params }) => ({
        content: await read(params.path),
      }));
    }
    if (files?.writeTextFile) {
      const write = files.writeTextFile.bind(files);
      app = app.onRequest(sdk.methods.client.fs.writeTextFile, async ({ params }) => {
        await write(params.path, params.content);
        return {};
      });
    }
    return app;
  }

  async #converse(context: import("@agentclientprotocol/sdk").ClientContext): Promise<PromptResponse> {
    const { sdk, options, runOptions } = this;
    const agent = sdk.methods.agent;
    const init: InitializeResponse = await context.request(agent.initialize, {
      protocolVersion: sdk.PROTOCOL_VERSION,
      clientCapabilities: {
        fs: {
          readTextFile: Boolean(options.fileSystem?.readTextFile),
          writeTextFile: Boolean(options.fileSystem?.writeTextFile),
        },
        terminal: false,
      },
      clientInfo: { name: "agent-session-manager", version: "1" },
    });
    if (options.authenticate) {
      await context.request(agent.authenticate, {
        methodId: options.authenticate.methodId,
        ...(options.authenticate.meta ? { _meta: options.authenticate.meta } : {}),
      });
    }
    const resumeId = runOptions.resumeSessionId;
    if (resumeId) {
      await this.#resume(context, init, resumeId);
    } else {
      const created = await context.request(agent.session.new, { cwd: options.cwd, mcpServers: [] });
      this.#sessionId = created.sessionId;
    }
    this.#mapper.started(this.#sessionId, { agent: init.agentInfo?.name ?? options.command[0] ?? "" });
    const mode = runOptions.sessionMode ?? options.sessionMode;
    if (mode && this.#sessionId)
      await context.request(agent.session.setMode, { sessionId: this.#sessionId, modeId: mode });
    if (this.#cancelled) return { stopReason: "cancelled" };
    return context.request(agent.session.prompt, {
      sessionId: this.#sessionId ?? "",
      prompt: [{ type: "text", text: this.prompt }],
    });
  }

  async #resume(
    context: import("@agentclientprotocol/sdk").ClientContext,
    init: InitializeResponse,
    sessionId: string,
  ): Promise<void> {
    const { sdk, options } = this;
    const capabilities = init.agentCapabilities;
    this.#sessionId = sessionId;
    if (capabilities?.sessionCapabilities?.resume) {
      await context.request(sdk.methods.agent.session.resume, { sessionId, cwd: options.cwd });
      return;
    }
    if (capabilities?.loadSession && options.preset?.loadSession !== false) {
      this.#replaying = true;
      try {
        await context.request(sdk.methods.agent.session.load, {
          sessionId,
          cwd: options.cwd,
          mcpServers: [],
        });
      } finally {
        this.#replaying = false;
      }
      return;
    }
    throw new AsmError("validation_error", `${PROVIDER.displayName} cannot resume a session`, {
      details: { sessionId, loadSession: capabilities?.loadSession ?? false },
      hint:
        options.preset?.loadSession === false
          ? "this agent's session/load loses the history: continue its sessions with its own adapter (gemini: resumeSessionId)"
          : "start a new session (no resumeSessionId)",
    });
  }

  async #permission(
    params: RequestPermissionRequest,
    signal: AbortSignal,
  ): Promise<RequestPermissionResponse> {
    if (this.#cancelled) return { outcome: { outcome: "cancelled" } };
    const { toolCall } = params;
    const toolName = this.#mapper.toolNameOf(toolCall);
    const answered = new Promise<RequestPermissionResponse>((resolve) => {
      this.#openPermissions.add(resolve);
      void this.#decide(toolName, toolCall.toolCallId, toolInputObject(toolCall.rawInput), signal).then(
        (allowed) => {
          if (allowed === undefined) return;
          if (allowed) this.#mapper.granted(toolCall);
          else this.#mapper.refused(toolCall, `${PROVIDER.displayName} was not allowed to use ${toolName}`);
          const option = pickOption(params.options, allowed);
          resolve(
            option
              ? { outcome: { outcome: "selected", optionId: option.optionId } }
              : { outcome: { outcome: "cancelled" } },
          );
        },
      );
    });
    try {
      return await answered;
    } finally {
      for (const answer of this.#openPermissions) this.#openPermissions.delete(answer);
    }
  }

  /** True to allow, false to refuse, undefined when the run was cancelled meanwhile. */
  async #decide(
    toolName: string,
    toolCallId: string,
    toolInput: Record<string, unknown>,
    signal: AbortSignal,
  ): Promise<boolean | undefined> {
    const rules = this.request.toolRules;
    const { options } = this;
    if (rules?.deniedTools?.includes(toolName) || options.deniedTools.includes(toolName)) return false;
    if (rules?.allowedTools !== undefined && !rules.allowedTools.includes(toolName)) return false;
    if (options.allowedTools.includes(toolName)) return true;
    const mode = this.runOptions.permissionMode ?? options.permissionMode;
    const readOnly = toolName === "Read" || toolName === "Grep";
    if (mode === "full_auto" || mode === "dangerously_skip_permissions") return true;
    if (mode === "accept_edits" && (readOnly || toolName === "Edit")) return true;
    if (mode === "plan") return readOnly;
    if (!options.approvals) return false;
    const abort = AbortSignal.any([signal, this.signal]);
    try {
      const allowed = await options.approvals.decide(
        { sessionId: this.request.session.id, runId: this.request.run.id, toolName, toolCallId, toolInput },
        abort,
      );
      return abort.aborted ? undefined : allowed;
    } catch (error) {
      this.#mapper.emit({
        type: "error_occurred",
        data: {
          errorCode: "tool_permission_denied",
          errorMessage: `the approval of ${toolName} failed: ${error instanceof Error ? error.message : String(error)}`,
          fatal: false,
        },
      });
      return false;
    }
  }

  #failure(
    error: unknown,
    agentExited: boolean,
    cli: CliProcess,
    details: Record<string, unknown>,
  ): AsmError {
    if (AsmError.is(error)) return error;
    const stderr = cli.stderrText();
    const exit = cli.exit;
    const rpc = rpcError(error);
    if (rpc && !agentExited) {
      const status = rpc.code >= 400 && rpc.code <= 599 ? rpc.code : undefined;
      return providerFailure(PROVIDER, {
        ...(status !== undefined ? { status } : {}),
        ...(rpc.code === AUTH_REQUIRED ? { errorType: "authentication_failed" } : {}),
        message: `${PROVIDER.displayName}: ${rpc.message || `JSON-RPC error ${rpc.code}`}`,
        ...(rpc.code === METHOD_NOT_FOUND ? { kind: "protocol_error" as const } : {}),
        ...(stderr ? { stderr } : {}),
        details: { ...details, rpcCode: rpc.code, ...(rpc.data !== undefined ? { rpcData: rpc.data } : {}) },
        cause: error,
      });
    }
    // The agent exited mid-turn (or the connection failed under it): its exit tells what happened.
    return providerFailure(PROVIDER, {
      ...(exit?.code != null ? { exitCode: exit.code } : {}),
      ...(exit?.signal ? { signal: exit.signal } : {}),
      ...(stderr ? { stderr } : {}),
      ...(agentExited
        ? {}
        : { message: `${PROVIDER.displayName}: ${error instanceof Error ? error.message : String(error)}` }),
      details: { ...details, ...(agentExited ? { agentExited: true } : {}) },
      ...(error !== undefined ? { cause: error } : {}),
    });
  }
}

/** The option that allows once (else always), or refuses once (else always). */
function pickOption(options: readonly PermissionOption[], allow: boolean): PermissionOption | undefined {
  const kinds = allow ? ["allow_once", "allow_always"] : ["reject_once", "reject_always"];
  for (const kind of kinds) {
    const option = options.find((candidate) => candidate.kind === kind);
    if (option) return option;
  }
  return undefined;
}

import type { Capability } from "../../core/capabilities.js";
import { AsmError, type ErrorCode } from "../../core/errors.js";
import type { AdapterEvent } from "../../core/events.js";
import type { RunInput } from "../../core/run.js";
import type { JsonObject } from "../../core/session.js";
import type {
  EventSink,
  ExecuteRequest,
  ExecuteResult,
  ProviderAdapter,
} from "../../ports/provider-adapter.js";
import { PROVIDER_ADAPTER_SPECIFICATION } from "../../ports/provider-adapter.js";
import { makeExecuteRequest } from "../../testing/adapter-conformance.js";

/** What one call of a scripted provider does. */
export type Step = (request: ExecuteRequest, sink: EventSink, signal: AbortSignal) => Promise<ExecuteResult>;

const DEFAULT_CAPABILITIES: readonly Capability[] = [{ name: "streaming", type: "sampling" }];

/**
 * A provider whose calls follow a script: each call takes the next step, and the last step repeats.
 * It records every request it got and every `cancel` it was asked for.
 */
export class ScriptedProvider implements ProviderAdapter {
  readonly specificationVersion = PROVIDER_ADAPTER_SPECIFICATION;
  readonly name: string;
  readonly capabilities: readonly Capability[];
  readonly calls: ExecuteRequest[] = [];
  readonly cancels: string[] = [];
  readonly #steps: Step[];
  readonly #running = new Set<string>();

  constructor(
    name: string,
    steps: Step | Step[],
    capabilities: readonly Capability[] = DEFAULT_CAPABILITIES,
  ) {
    this.name = name;
    this.#steps = Array.isArray(steps) ? [...steps] : [steps];
    this.capabilities = capabilities;
  }

  async execute(request: ExecuteRequest, sink: EventSink, signal: AbortSignal): Promise<ExecuteResult> {
    this.calls.push(request);
    const step = this.#steps.length > 1 ? this.#steps.shift() : this.#steps[0];
    if (step === undefined) throw new Error(`${this.name}: no script step`);
    this.#running.add(request.run.id);
    try {
      return await step(request, sink, signal);
    } finally {
      this.#running.delete(request.run.id);
    }
  }

  async cancel(runId: string): Promise<boolean> {
    this.cancels.push(runId);
    return this.#running.has(runId);
  }
}

/** Streams `text` as one delta, then the whole message, and completes with it. */
export function succeed(text: string): Step {
  return async (_request, sink) => {
    sink.emit({ type: "run_started", data: {} });
    sink.emit({ type: "message_streamed", data: { delta: text } });
    sink.emit({ type: "message_received", data: { role: "assistant", content: text } });
    return { output: { content: text } };
  };
}

export interface FailOptions {
  details?: Record<string, unknown>;
  /** Stream this text before failing: a mid-stream failure. */
  afterStreaming?: string;
  /** Start this tool before failing (after any streamed text). */
  afterTool?: string;
}

/** Emits `run_started` (not output), optionally some output, then rejects with `code`. */
export function fail(code: ErrorCode, options: FailOptions = {}): Step {
  return async (_request, sink) => {
    sink.emit({ type: "run_started", data: {} });
    if (options.afterStreaming !== undefined) {
      sink.emit({ type: "message_streamed", data: { delta: options.afterStreaming } });
    }
    if (options.afterTool !== undefined) {
      sink.emit({
        type: "tool_call_started",
        data: { toolCallId: "call_1", toolName: options.afterTool, toolInput: {} },
      });
    }
    throw new AsmError(code, `scripted ${code}`, options.details ? { details: options.details } : {});
  };
}

/** A step held open until the test finishes or fails it; rejects `cancelled` when its signal aborts. */
export interface HeldStep {
  step: Step;
  /** Resolves once the step has been called. */
  started: Promise<void>;
  /** The signal the step was given (once started). */
  signal(): AbortSignal | undefined;
  succeed(text: string): void;
  fail(code: ErrorCode): void;
}

export function held(): HeldStep {
  let markStarted: () => void = () => undefined;
  const started = new Promise<void>((resolve) => {
    markStarted = resolve;
  });
  let settle: ((outcome: { text: string } | { code: ErrorCode }) => void) | undefined;
  let given: AbortSignal | undefined;
  const step: Step = (request, sink, signal) => {
    given = signal;
    sink.emit({ type: "run_started", data: {} });
    return new Promise<ExecuteResult>((resolve, reject) => {
      const onAbort = (): void =>
        reject(new AsmError("cancelled", `run ${request.run.id} was cancelled`, { cause: signal.reason }));
      signal.addEventListener("abort", onAbort, { once: true });
      settle = (outcome) => {
        signal.removeEventListener("abort", onAbort);
        if ("text" in outcome) resolve({ output: { content: outcome.text } });
        else reject(new AsmError(outcome.code, `scripted ${outcome.code}`));
      };
      markStarted();
    });
  };
  const call = (outcome: { text: string } | { code: ErrorCode }): void => {
    if (settle === undefined) throw new Error("the held step has not started");
    settle(outcome);
  };
  return {
    step,
    started,
    signal: () => given,
    succeed: (text) => call({ text }),
    fail: (code) => call({ code }),
  };
}

/** A sink that keeps what it is given. */
export class CollectingSink implements EventSink {
  readonly events: AdapterEvent[] = [];

  emit(event: AdapterEvent): void {
    this.events.push(event);
  }
}

/** A request for a fresh run; `sessionId` defaults to a fresh session. */
export function runRequest(
  options: {
    sessionId?: string;
    input?: RunInput;
    providerOptions?: Readonly<Record<string, JsonObject>>;
  } = {},
): ExecuteRequest {
  return makeExecuteRequest(options.input ?? { prompt: "hello" }, {
    ...(options.sessionId ? { session: { id: options.sessionId } } : {}),
    ...(options.providerOptions ? { providerOptions: options.providerOptions } : {}),
  });
}

/** A clock tests move by hand. */
export class ManualClock {
  #now: number;

  constructor(start = Date.UTC(2026, 0, 1)) {
    this.#now = start;
  }

  readonly now = (): number => this.#now;

  advance(ms: number): void {
    this.#now += ms;
  }
}

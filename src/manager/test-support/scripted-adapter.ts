import type { Capability } from "../../core/capabilities.js";
import type {
  EventSink,
  ExecuteRequest,
  ExecuteResult,
  ProviderAdapter,
} from "../../ports/provider-adapter.js";
import { PROVIDER_ADAPTER_SPECIFICATION } from "../../ports/provider-adapter.js";

export type Script = (
  request: ExecuteRequest,
  sink: EventSink,
  signal: AbortSignal,
) => Promise<ExecuteResult>;

/** An adapter whose behaviour each test writes inline, to drive the manager through every path. */
export class ScriptedAdapter implements ProviderAdapter {
  readonly specificationVersion = PROVIDER_ADAPTER_SPECIFICATION;
  readonly name = "scripted";
  readonly capabilities: readonly Capability[] = [
    { name: "streaming", type: "sampling" },
    { name: "bash", type: "tool" },
  ];
  readonly calls: ExecuteRequest[] = [];

  constructor(private readonly script: Script) {}

  execute(request: ExecuteRequest, sink: EventSink, signal: AbortSignal): Promise<ExecuteResult> {
    this.calls.push(request);
    return this.script(request, sink, signal);
  }

  async cancel(): Promise<boolean> {
    return false;
  }
}

/** Resolves when `signal` aborts. */
export function aborted(signal: AbortSignal): Promise<void> {
  return new Promise((resolve) =>
    signal.aborted ? resolve() : signal.addEventListener("abort", () => resolve(), { once: true }),
  );
}

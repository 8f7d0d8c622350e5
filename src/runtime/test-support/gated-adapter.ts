/** Test support for the runtime: an adapter whose runs each wait for the test to release them. */
import { AsmError } from "../../core/errors.js";
import { aborted, ScriptedAdapter } from "../../manager/test-support/scripted-adapter.js";

/**
 * Each run streams one delta (its prompt), then waits until `release(prompt)` (or its abort);
 * `started` lists the prompts in the order their runs reached the adapter.
 */
export class GatedAdapter extends ScriptedAdapter {
  readonly started: string[] = [];
  readonly #gates = new Map<string, () => void>();
  readonly #released = new Set<string>();

  /** `deltas`: how many deltas each run streams (default 1); `perTick`: how many before it yields a turn (default all). */
  constructor(options: { deltas?: number; perTick?: number } = {}) {
    super(async (request, sink, signal) => {
      const prompt = request.run.input.prompt ?? "";
      this.started.push(prompt);
      sink.emit({ type: "run_started", data: { providerSessionId: `native-${prompt}` } });
      for (let index = 0; index < (options.deltas ?? 1); index += 1) {
        sink.emit({ type: "message_streamed", data: { delta: `${prompt}:${index}` } });
        if (options.perTick && (index + 1) % options.perTick === 0) await new Promise(setImmediate);
      }
      if (!this.#released.has(prompt)) {
        const gate = new Promise<void>((resolve) => this.#gates.set(prompt, resolve));
        await Promise.race([gate, aborted(signal)]);
        if (signal.aborted) throw new AsmError("cancelled", "aborted");
      }
      sink.emit({ type: "token_usage_updated", data: { inputTokens: 3, outputTokens: 2 } });
      return { output: { content: `done ${prompt}` }, stopReason: "end_turn", model: "gate-1" };
    });
  }

  /** Lets the run of `prompt` finish, now or as soon as it starts. */
  release(prompt: string): void {
    this.#released.add(prompt);
    this.#gates.get(prompt)?.();
  }
}

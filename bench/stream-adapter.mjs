// A ProviderAdapter that streams a fixed number of `message_streamed` events, shaped like a
// real provider's stream parser: a burst of events per stdout chunk, one chunk per I/O tick.
import { AsmError } from "../dist/core/index.js";
import { filler } from "./lib.mjs";

/** `run_started` is emitted besides the streamed messages, as the adapter contract asks. */
export const ADAPTER_EXTRA_EVENTS = 1;

/** A few distinct deltas of `length` characters, built once so producing events costs nearly nothing. */
export function streamDeltas(length) {
  return Array.from({ length: 16 }, (_, index) => filler(length, `chunk-${index}`));
}

export class StreamingBenchAdapter {
  specificationVersion = "v1";
  name = "bench";
  capabilities = [{ name: "streaming", type: "sampling" }];

  /**
   * `count` `message_streamed` events per run, `perTick` of them emitted synchronously per
   * `setImmediate` tick, each carrying `deltaLength` characters of text.
   */
  constructor({ count, perTick, deltaLength }) {
    this.count = count;
    this.perTick = perTick;
    this.deltas = streamDeltas(deltaLength);
  }

  async execute(_request, sink, signal) {
    sink.emit({ type: "run_started", data: { model: "bench-model" } });
    let emitted = 0;
    while (emitted < this.count) {
      await new Promise((resolve) => setImmediate(resolve));
      if (signal.aborted) throw new AsmError("cancelled", "bench run aborted");
      const end = Math.min(this.count, emitted + this.perTick);
      for (; emitted < end; emitted++) {
        sink.emit({ type: "message_streamed", data: { delta: this.deltas[emitted % this.deltas.length] } });
      }
    }
    return { output: { content: `streamed ${this.count} events` }, stopReason: "end_turn" };
  }

  async cancel() {
    return false;
  }
}

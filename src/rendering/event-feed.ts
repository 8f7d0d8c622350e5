import type { AsmEvent } from "../core/events.js";

/**
 * Events pushed from a callback (`runOnce`'s `onEvent`) as an async iterable for `render`:
 * `push` each event, `end` when there are no more; iteration yields them in order, and ends once
 * they are all taken after `end`. One iteration only.
 */
export class EventFeed implements AsyncIterable<AsmEvent> {
  private readonly queued: AsmEvent[] = [];
  private ended = false;
  private wake: (() => void) | undefined;

  push(event: AsmEvent): void {
    if (this.ended) return;
    this.queued.push(event);
    this.signal();
  }

  end(): void {
    this.ended = true;
    this.signal();
  }

  async *[Symbol.asyncIterator](): AsyncIterator<AsmEvent> {
    for (;;) {
      const event = this.queued.shift();
      if (event !== undefined) {
        yield event;
        continue;
      }
      if (this.ended) return;
      await new Promise<void>((resolve) => {
        this.wake = resolve;
      });
    }
  }

  private signal(): void {
    const wake = this.wake;
    this.wake = undefined;
    wake?.();
  }
}

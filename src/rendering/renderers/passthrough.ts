import type { Renderer } from "../types.js";

/**
 * Renders nothing: for sinks that want the events themselves (JSONL, callback, PubSub), so the
 * pipeline works as a programmable event processor.
 */
export class PassthroughRenderer implements Renderer {
  render(): string {
    return "";
  }

  finish(): string {
    return "";
  }
}

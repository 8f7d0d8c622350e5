import type { InputMessage, RunInput } from "../core/run.js";

/** What a provider's output had reached when it failed mid-stream. */
export interface PartialOutput {
  /** Assistant text already streamed. */
  text: string;
  /** Tools already started (their effects may be in place). */
  toolCalls: readonly string[];
}

/** How the continuation instruction starts. */
export const CONTINUATION_NOTE = "Your previous response was interrupted by a provider failure.";

/** The user turn that asks the next provider to carry on from the partial answer. */
export function continuationInstruction(partial: PartialOutput): string {
  const lines = [
    CONTINUATION_NOTE,
    partial.text.length > 0
      ? "The assistant message above is what you had written so far. Continue exactly where it stopped, without repeating any of it."
      : "No text had been written yet. Carry on with the task.",
  ];
  if (partial.toolCalls.length > 0) {
    lines.push(
      `These tools were already called before the interruption, so their effects may be in place; check before repeating them: ${partial.toolCalls.join(", ")}.`,
    );
  }
  return lines.join(" ");
}

/**
 * The input for the next provider after a mid-stream failure, as LiteLLM builds its mid-stream
 * fallback: the original conversation (`messages`, then `prompt` as a user turn), the partial
 * answer as an assistant turn (when there is text), then a user turn asking to continue. The
 * result has `messages` only. Inputs with a `command` cannot be continued; callers check first.
 */
export function continuationInput(input: RunInput, partial: PartialOutput): RunInput {
  const messages: InputMessage[] = [...(input.messages ?? [])];
  if (input.prompt !== undefined) messages.push({ role: "user", content: input.prompt });
  if (partial.text.length > 0) messages.push({ role: "assistant", content: partial.text });
  messages.push({ role: "user", content: continuationInstruction(partial) });
  return { messages };
}

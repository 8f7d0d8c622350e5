/*
 * Helpers for the Anthropic-style content blocks that Claude Code and Amp both print
 * (`text`, `tool_use`, `tool_result`), shared so the adapters read them the same way.
 */

/** The text of message or tool-result content: a string as it is, the `text` of blocks joined by newlines. */
export function contentText(content: unknown): string {
  if (typeof content === "string") return content;
  if (!Array.isArray(content)) return "";
  return content
    .map((block: unknown) =>
      typeof block === "object" && block !== null && "text" in block && typeof block.text === "string"
        ? block.text
        : "",
    )
    .filter(Boolean)
    .join("\n");
}

/**
 * A tool call's input as the object `tool_call_started.toolInput` must be: an object as it is
 * (copied), nothing as `{}`, anything else wrapped as `{ value }`.
 */
export function toolInputObject(input: unknown): Record<string, unknown> {
  if (typeof input === "object" && input !== null && !Array.isArray(input)) return { ...input };
  return input === undefined ? {} : { value: input };
}

import type { RunInput } from "../core/run.js";
import { messageText, type Transcript, type TranscriptMessage } from "./transcript.js";

/** Opening tag of the replayed conversation block; what a test or a reader looks for. */
export const REPLAY_OPEN = "<conversation_history>";
export const REPLAY_CLOSE = "</conversation_history>";

/** The sentence that tells the model what the block is. */
export const REPLAY_PREAMBLE =
  "The conversation so far in this session, oldest first (earlier turns may have been answered " +
  "by another agent). It is context, not a new request: answer the request after the block.";

/**
 * The most tokens (estimated as the transcript counts them) a replay may carry to each provider,
 * about half of the smallest context window its models have, so the replay never crowds out the
 * request, the agent's own system prompt and its tool results. A larger `maxTokensApprox` is
 * lowered to this. Providers not listed get `other`.
 */
export const REPLAY_TOKEN_CEILINGS: Readonly<Record<string, number>> = Object.freeze({
  claude: 100_000, // 200k-token context
  amp: 100_000, // Claude models
  codex: 130_000, // 272k-token input on GPT-5 models
  gemini: 500_000, // 1M-token context
  other: 32_000,
});

/** The replay ceiling of `provider` (see `REPLAY_TOKEN_CEILINGS`). */
export function replayTokenCeiling(provider: string): number {
  return REPLAY_TOKEN_CEILINGS[provider] ?? (REPLAY_TOKEN_CEILINGS.other as number);
}

/** One transcript message as a line (or paragraph) of the block. */
function formatMessage(message: TranscriptMessage): string {
  const call = message.toolCall;
  if (call) {
    const result = call.output === undefined || call.output === "" ? `(${call.status})` : call.output;
    return `[tool ${call.name}] input: ${JSON.stringify(call.input)}\n[tool ${call.name} result] ${result}`;
  }
  const label = message.role === "assistant" && message.partial ? "assistant (cut short)" : message.role;
  return `[${label}] ${messageText(message)}`;
}

/**
 * The transcript as the text block a replay puts before the run's request:
 *
 * ```
 * <conversation_history>
 * <preamble>
 *
 * [user] Remember: the code is X-42.
 *
 * [assistant] Noted.
 *
 * [tool Bash] input: {"command":"ls"}
 * [tool Bash result] README.md
 * </conversation_history>
 * ```
 */
export function formatReplayBlock(transcript: Transcript): string {
  const body = transcript.messages.map(formatMessage).join("\n\n");
  return `${REPLAY_OPEN}\n${REPLAY_PREAMBLE}\n\n${body}\n${REPLAY_CLOSE}`;
}

/**
 * The run input with the replay block in front of it. The same for every provider: the block
 * leads the prompt, which every agent CLI takes on its stdin (Claude Code as a stream-json user
 * message, Codex, Amp and Gemini as text) — so no argv length limit applies; the bound is the
 * model's context (`REPLAY_TOKEN_CEILINGS`). A per-run system prompt was not used: it replaces
 * the adapter's configured one, and for Claude and Gemini the agent's own system prompt too.
 * `input.prompt` becomes `block + "\n\n" + prompt`; an input of `messages` gets the block as a
 * first `user` message. Inputs with a `command` (a shell run) are not replayable; callers check.
 */
export function withReplay(input: RunInput, block: string): RunInput {
  if (input.prompt !== undefined) return { ...input, prompt: `${block}\n\n${input.prompt}` };
  return { ...input, messages: [{ role: "user", content: block }, ...(input.messages ?? [])] };
}

export {
  type ContinuationMode,
  type ContinuationOptions,
  type ContinuityExtensionOptions,
  type ContinuityRecord,
  continuityExtension,
  DEFAULT_CONTINUATION_OPTIONS,
  NATIVE_RESUME_OPTIONS,
} from "./continuity-extension.js";
export {
  formatReplayBlock,
  REPLAY_CLOSE,
  REPLAY_OPEN,
  REPLAY_PREAMBLE,
  REPLAY_TOKEN_CEILINGS,
  replayTokenCeiling,
  withReplay,
} from "./replay-format.js";
export {
  approxTokens,
  buildTranscript,
  CHARS_PER_TOKEN,
  DEFAULT_MAX_TOOL_OUTPUT_CHARS,
  messageText,
  type Transcript,
  TranscriptFolder,
  type TranscriptMessage,
  type TranscriptOptions,
  type TranscriptRole,
  type TranscriptRun,
  type TranscriptToolCall,
  truncateTranscript,
} from "./transcript.js";
export { SessionTranscript, transcriptFromStore } from "./transcript-store.js";

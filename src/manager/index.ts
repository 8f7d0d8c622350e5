export { buildEventDraft, type EventContext, type EventSource } from "./event-builder.js";
export { type EventListener, type GroupCommitOptions, RunEventPipeline } from "./event-pipeline.js";
export { formatArgv, inputMessages } from "./options.js";
export type { RunHandle } from "./run-handle.js";
export {
  type CoreRunResult,
  type ExecuteRunOptions,
  type RunOnceOptions,
  type RunResult,
  SessionManagerBase,
  type SessionManagerOptions as SessionManagerBaseOptions,
  type StartRunOptions,
  type StartSessionInput,
} from "./session-manager.js";
export { DEFAULT_STORAGE_RETRY, type StorageRetryOptions } from "./storage-retry.js";
export { type StreamEventsOptions, streamSessionEvents } from "./stream-events.js";

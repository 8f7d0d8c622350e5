// The public API: what a user of the library calls, and the types of the model and the ports.
// Internals (the event pipeline, the policy evaluator, the storable-event machinery, test
// helpers) stay behind it. Backends with native or heavy dependencies have their own subpaths
// (agent-session-manager/sqlite, /postgres, /claude, /testing…); the provider registry and
// openStore load an adapter or a backend only when one is chosen.

// The audit trail (who did what), kept beside the session log (SQLite: `agent-session-manager/audit/sqlite`).
export * from "./audit/index.js";
// Session continuity: transcripts from the log, native resume and replay (a built-in run extension).
export * from "./continuity/index.js";
// The model: sessions, runs, events, errors, usage, capabilities, permission modes.
export type * from "./core/capabilities.js";
export { CAPABILITY_TYPES } from "./core/capabilities.js";
export type * from "./core/errors.js";
export {
  AsmError,
  ERROR_CODES_BY_CATEGORY,
  errorCategory,
  isErrorCode,
  isRetryable,
  RETRYABLE_ERROR_CODES,
} from "./core/errors.js";
export type * from "./core/events.js";
export {
  EVENT_DATA_SCHEMAS,
  EVENT_TYPES,
  isEventType,
  isTerminalRunEventType,
  TERMINAL_RUN_EVENT_TYPES,
  validateEventData,
} from "./core/events.js";
export type * from "./core/permission-mode.js";
export { PERMISSION_MODES } from "./core/permission-mode.js";
export type * from "./core/provider-error.js";
// Secrets.
export {
  createRedactor,
  DEFAULT_REDACTION_PATTERNS,
  DEFAULT_SENSITIVE_KEY_PATTERN,
  type RedactionOptions,
  type RedactionPattern,
  type RedactionReport,
  Redactor,
} from "./core/redaction.js";
export type * from "./core/run.js";
export { isTerminalRunStatus, RUN_STATUSES, RUN_TRANSITIONS } from "./core/run.js";
export type * from "./core/session.js";
export { isTerminalSessionStatus, SESSION_STATUSES, SESSION_TRANSITIONS } from "./core/session.js";
export { EVENT_LIMITS, type StorableLimits } from "./core/storable.js";
export type * from "./core/token-usage.js";
export { addTokenUsage, EMPTY_TOKEN_USAGE } from "./core/token-usage.js";
// Cost, policy and approvals (the built-in run extensions and their tools).
export * from "./cost/index.js";
// Orchestration.
export {
  type CoreRunResult,
  DEFAULT_STORAGE_RETRY,
  type ExecuteRunOptions,
  type GroupCommitOptions,
  type RunHandle,
  type RunOnceOptions,
  type RunResult,
  type StartRunOptions,
  type StartSessionInput,
  type StorageRetryOptions,
  type StreamEventsOptions,
  streamSessionEvents,
} from "./manager/index.js";
export * from "./policy/index.js";
// The ports: what a store, an artifact store, a provider or a run extension implements.
export type * from "./ports/index.js";
export {
  ARTIFACT_STORE_SPECIFICATION,
  DEFAULT_EVENT_PAGE,
  MAX_EVENT_PAGE,
  PROVIDER_ADAPTER_SPECIFICATION,
  RUN_EXTENSION_SPECIFICATION,
  SESSION_STORE_SPECIFICATION,
} from "./ports/index.js";
// PubSub: live fan-out of stored events; Redis and NATS adapters on /pubsub/redis and /pubsub/nats.
export {
  type EventPublisher,
  PUBSUB_SPECIFICATION,
  type PubSub,
  type PubSubHandler,
  type PubSubSubscription,
} from "./ports/pubsub.js";
// Providers by name, and the router.
export type * from "./providers/provider-descriptor.js";
export {
  type AdapterOptionsFor,
  type BuiltInProviderName,
  type CredentialsCheck,
  type CredentialsCheckInput,
  checkCredentials,
  createAdapter,
  getProvider,
  listProviders,
  ProviderRegistry,
  providerRegistry,
  registerProvider,
} from "./providers/registry.js";
// TopicScope and TopicOptions come with the rendering sinks' (the same scopes; a prefix option).
export {
  assertTopic,
  DEFAULT_TOPIC_PREFIX,
  encodeTopicSegment,
  type JoinEventStreamOptions,
  joinEventStream,
  MemoryBus,
  MemoryPubSub,
  type MemoryPubSubOptions,
  type PublishExtensionOptions,
  type PublishReport,
  type PubSubErrorReporter,
  publishExtension,
  runTopic,
  sessionTopic,
  topicsForEvent,
  typeTopic,
} from "./pubsub/index.js";
// Rendering: renderers (compact, verbose, studio, passthrough) × sinks (tty, file, jsonl, callback, pubsub).
export * from "./rendering/index.js";
export * from "./routing/index.js";
// The runtime: session servers (queue, slots, subscriptions), their registry, run control,
// limits across servers, one run as a stream.
export {
  type AcquireOptions,
  CONCURRENCY_LIMITER_DEFAULTS,
  ConcurrencyLimiter,
  type ConcurrencyLimiterOptions,
  type ConcurrencyLimiterStatus,
  type SlotPoolStatus,
} from "./runtime/concurrency-limiter.js";
export {
  RunControl,
  type RunControlOperation,
  type RunControlRecord,
  type RunControlResult,
  type RunControlState,
  type RunControlStatus,
  type RunControlTarget,
} from "./runtime/run-control.js";
export { SessionServerRegistry, type SessionServerRegistryOptions } from "./runtime/server-registry.js";
export {
  type AwaitRunOptions,
  type DrainOptions,
  SERVER_QUEUE_KEY,
  SessionServer,
  type SessionServerOptions,
  type SessionServerStatus,
  type SubmitRunOptions,
} from "./runtime/session-server.js";
export type {
  IterableSubscription,
  SubscribeOptions,
  Subscription,
  SubscriptionEnd,
  SubscriptionListener,
} from "./runtime/session-subscriptions.js";
export {
  DEFAULT_STREAM_IDLE_TIMEOUT_MS,
  type StreamSession,
  type StreamSessionOptions,
  type StreamSessionRunOptions,
  streamSession,
} from "./runtime/stream-session.js";
export { SessionManager, type SessionManagerOptions } from "./session-manager.js";
// Stores by target.
export { MemorySessionStore } from "./stores/memory/index.js";
export {
  type OpenStoreOptions,
  openDurableStore,
  openStore,
  parseStoreTarget,
  STORE_SCHEMES,
  type StoreTarget,
} from "./stores/open-store.js";
// Plain run hooks for users without OpenTelemetry (the OTel extension: `agent-session-manager/otel`).
export * from "./telemetry/index.js";
// Workflow/DAG engines: steps, session lifecycle and what to do about a failed step.
export * from "./workflow/index.js";
// Workspace snapshots, diffs and rollback (a built-in run extension), and the exec primitive.
export * from "./workspace/index.js";

export {
  ARTIFACT_STORE_SPECIFICATION,
  type ArtifactInfo,
  type ArtifactStore,
  type PutArtifactOptions,
} from "./artifact-store.js";
export type { DurableSessionStore } from "./durable-store.js";
export type {
  HealthCheckOptions,
  HealthIssue,
  HealthReport,
  Maintenance,
  RecoveryOptions,
  RecoveryReport,
  RetentionPolicy,
  RetentionReport,
} from "./maintenance.js";
export {
  type EventSink,
  type ExecuteRequest,
  type ExecuteResult,
  PROVIDER_ADAPTER_SPECIFICATION,
  type ProviderAdapter,
  type ProviderTotals,
  type ResumePoint,
  type ToolRestrictions,
} from "./provider-adapter.js";
export type {
  ArtifactRef,
  EventSearch,
  Page,
  QueryApi,
  SessionExport,
  SessionSearch,
  SessionStats,
  UsageFilter,
  UsageSummary,
  UsageTotals,
} from "./query-api.js";
export {
  type CostSource,
  RUN_EXTENSION_SPECIFICATION,
  type RunContribution,
  type RunCostFigure,
  type RunEnd,
  type RunExtension,
  type RunExtensionContext,
  type RunExtensionOptions,
  type RunHooks,
  type RunOutcome,
  type RunResultExtensions,
} from "./run-extension.js";
export {
  DEFAULT_EVENT_PAGE,
  type EventQuery,
  MAX_EVENT_PAGE,
  type RunListQuery,
  type SaveRunOptions,
  SESSION_STORE_SPECIFICATION,
  type SessionListQuery,
  type SessionStore,
} from "./session-store.js";

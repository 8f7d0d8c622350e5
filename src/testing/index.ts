export type { DurableSessionStore } from "../ports/durable-store.js";
export {
  ADAPTER_SCENARIOS,
  type AdapterConformanceHarness,
  type AdapterScenario,
  type AdapterScenarioContext,
  type AdapterScenarioSetup,
  type AdapterTestFramework,
  defineAdapterConformance,
  type ExecuteRequestParts,
  isProcessAlive,
  makeExecuteRequest,
  RecordingSink,
} from "./adapter-conformance.js";
export { type ArtifactStoreHarness, defineArtifactStoreConformance } from "./artifact-store-conformance.js";
export * from "./mock-anthropic-api.js";
export * from "./mock-gemini-api.js";
export { definePubSubConformance, type PubSubHarness } from "./pubsub-conformance.js";
export { defineQueryConformance, type QueryConformanceHarness } from "./query-conformance.js";
export * from "./scripted-acp-agent/index.js";
export * from "./scripted-cli/index.js";
export {
  defineSessionStoreConformance,
  type SessionStoreHarness,
  type TestFramework,
} from "./session-store-conformance.js";

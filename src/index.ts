// The light entry point: the model, the ports and the orchestration. Backends with native or
// heavy dependencies have their own subpaths (agent-session-manager/sqlite, /shell, /testing);
// the provider registry and openStore load an adapter or a backend only when one is chosen.
export * from "./core/index.js";
export * from "./core/redaction.js";
export * from "./cost/index.js";
export * from "./manager/index.js";
export * from "./policy/index.js";
export * from "./ports/index.js";
export * from "./providers/provider-descriptor.js";
export * from "./providers/registry.js";
export * from "./routing/index.js";
export { SessionManager, type SessionManagerOptions } from "./session-manager.js";
export { MemorySessionStore } from "./stores/memory/index.js";
export {
  type OpenStoreOptions,
  openDurableStore,
  openStore,
  parseStoreTarget,
  STORE_SCHEMES,
  type StoreTarget,
} from "./stores/open-store.js";

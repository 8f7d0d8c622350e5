// The light entry point: the model, the ports and the orchestration. Backends with native or
// heavy dependencies have their own subpaths (agent-session-manager/sqlite, /shell, /testing).
export * from "./core/index.js";
export * from "./core/redaction.js";
export * from "./cost/index.js";
export * from "./manager/index.js";
export * from "./policy/index.js";
export * from "./ports/index.js";
export * from "./routing/index.js";
export { MemorySessionStore } from "./stores/memory/index.js";

export { ClaudeAdapter } from "./claude-adapter.js";
export { CLAUDE_CAPABILITIES, claudeProvider } from "./descriptor.js";
export {
  CLAUDE_ADAPTER_DEFAULTS,
  type ClaudeAdapterOptions,
  type ClaudePermissionMode,
  type ClaudeRunOptions,
  claudePermissionMode,
} from "./options.js";
export { CLAUDE_TOOL_NAMES, type ClaudeToolOptions, claudeToolOptions } from "./tool-rules.js";

export { CodexAdapter } from "./codex-adapter.js";
export { type CodexBinary, findBundledCodex } from "./codex-binary.js";
export { CODEX_CAPABILITIES, codexProvider } from "./descriptor.js";
export {
  CODEX_ADAPTER_DEFAULTS,
  type CodexAdapterOptions,
  type CodexApprovalPolicy,
  type CodexConfig,
  type CodexConfigValue,
  type CodexPermissionSettings,
  type CodexProviderOptions,
  type CodexReasoningEffort,
  type CodexRunOptions,
  type CodexSandboxMode,
  type CodexWebSearchMode,
  codexPermissionSettings,
} from "./options.js";
export { CODEX_TOOL_NAMES, mcpToolName } from "./tool-names.js";
export { type CodexToolSwitches, codexToolSwitches } from "./tool-rules.js";

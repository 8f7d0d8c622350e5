export { GEMINI_CAPABILITIES, GEMINI_IDENTITY, geminiProvider } from "./descriptor.js";
export { geminiUsage } from "./event-mapper.js";
export { GEMINI_EXIT_CODES } from "./failures.js";
export { GeminiAdapter } from "./gemini-adapter.js";
export {
  defaultGeminiExecutable,
  GEMINI_ADAPTER_DEFAULTS,
  type GeminiAdapterOptions,
  type GeminiProviderOptions,
  type GeminiRunOptions,
} from "./options.js";
export { type GeminiApprovalMode, geminiApprovalMode, geminiSettings } from "./settings.js";
export { GEMINI_TOOL_NAMES } from "./tool-names.js";

export { AmpAdapter } from "./amp-adapter.js";
export { AMP_CAPABILITIES, ampProvider } from "./descriptor.js";
export {
  AMP_ADAPTER_DEFAULTS,
  type AmpAdapterOptions,
  type AmpProviderOptions,
  type AmpRunOptions,
} from "./options.js";
export {
  AMP_BUILTIN_TOOLS,
  AMP_EDIT_TOOLS,
  AMP_READ_ONLY_TOOLS,
  type AmpPermissionRule,
  type AmpSettingsInput,
  ampSettings,
} from "./settings.js";
export { AMP_TOOL_NAMES } from "./tool-names.js";

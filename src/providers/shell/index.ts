export { SHELL_CAPABILITIES, shellProvider } from "./descriptor.js";
export {
  SHELL_ADAPTER_DEFAULTS,
  type ShellAdapterOptions,
  type ShellRunOptions,
} from "./options.js";
export { ShellAdapter } from "./shell-adapter.js";

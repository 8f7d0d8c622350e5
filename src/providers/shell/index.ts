export {
  SHELL_ADAPTER_DEFAULTS,
  type ShellAdapterOptions,
  type ShellRunOptions,
} from "./options.js";
export { SHELL_CAPABILITIES, ShellAdapter } from "./shell-adapter.js";

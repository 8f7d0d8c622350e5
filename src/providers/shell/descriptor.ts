import type { Capability } from "../../core/capabilities.js";
import type { ProviderDescriptor } from "../provider-descriptor.js";
import {
  type ShellAdapterOptions,
  type ShellRunOptions,
  shellOptionsSchema,
  shellRunOptionsSchema,
} from "./options.js";

export const SHELL_CAPABILITIES: readonly Capability[] = Object.freeze([
  Object.freeze({ name: "command_execution", type: "code_execution" }),
  Object.freeze({ name: "streaming", type: "sampling" }),
] satisfies Capability[]);

/** Commands run as a provider: argv arrays, never a shell string unless the options allow it. */
export const shellProvider: ProviderDescriptor<ShellAdapterOptions, ShellRunOptions> = {
  name: "shell",
  displayName: "Shell",
  capabilities: SHELL_CAPABILITIES,
  optionsSchema: shellOptionsSchema,
  runOptionsSchema: shellRunOptionsSchema,
  cli: { input: "command", options: ["cwd"], env: [] },
  async create(options) {
    const { ShellAdapter } = await import("./shell-adapter.js");
    return new ShellAdapter(options);
  },
};

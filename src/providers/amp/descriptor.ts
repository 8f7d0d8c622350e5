import type { Capability } from "../../core/capabilities.js";
import type { ProviderDescriptor } from "../provider-descriptor.js";
import { PROVIDERS } from "../shared/provider-failures.js";
import {
  type AmpAdapterOptions,
  type AmpRunOptions,
  ampOptionsSchema,
  ampRunOptionsSchema,
} from "./options.js";

const IDENTITY = PROVIDERS.amp;

export const AMP_CAPABILITIES: readonly Capability[] = Object.freeze([
  Object.freeze({
    name: "streaming",
    type: "sampling",
    description: "events as they happen; text arrives in whole blocks, not deltas",
  }),
  Object.freeze({ name: "tool_use", type: "tool" }),
  Object.freeze({ name: "system_prompts", type: "prompt", description: "appended to Amp's own" }),
  Object.freeze({ name: "file_operations", type: "file_access" }),
  Object.freeze({ name: "bash", type: "code_execution" }),
  Object.freeze({ name: "web", type: "network_access", description: "read_web_page and web_search tools" }),
  Object.freeze({ name: "mcp", type: "tool" }),
] satisfies Capability[]);

/** The `amp` CLI, spawned directly (no SDK). */
export const ampProvider: ProviderDescriptor<AmpAdapterOptions, AmpRunOptions> = {
  name: IDENTITY.name,
  displayName: IDENTITY.displayName,
  capabilities: AMP_CAPABILITIES,
  // Amp has no login file the CLI can use unattended: without a key it starts a browser login.
  credentials: { env: ["AMP_API_KEY"], hint: IDENTITY.loginHint },
  optionsSchema: ampOptionsSchema,
  runOptionsSchema: ampRunOptionsSchema,
  cli: {
    input: "prompt",
    // The amp CLI has no model flag (it picks models by mode) and no turn limit.
    options: ["executable", "permissionMode", "cwd", "systemPrompt", "allowedTools", "deniedTools"],
    env: ["executable"],
  },
  async create(options) {
    const { AmpAdapter } = await import("./amp-adapter.js");
    return new AmpAdapter(options);
  },
};

import type { Capability } from "../../core/capabilities.js";
import { COMMON_CLI_OPTIONS, type ProviderDescriptor } from "../provider-descriptor.js";
import type { ProviderIdentity } from "../shared/provider-failures.js";
import {
  type GeminiAdapterOptions,
  type GeminiRunOptions,
  geminiOptionsSchema,
  geminiRunOptionsSchema,
} from "./options.js";

/** Who the Gemini provider is, for its errors (beside the built-in identities of `PROVIDERS`). */
export const GEMINI_IDENTITY: ProviderIdentity = Object.freeze({
  name: "gemini",
  displayName: "Gemini CLI",
  installHint:
    "npm install @google/gemini-cli, or point at a gemini executable: executablePath " +
    "(CLI: --executable or ASM_GEMINI_EXECUTABLE)",
  loginHint:
    "set GEMINI_API_KEY (or GOOGLE_API_KEY with GOOGLE_GENAI_USE_VERTEXAI=true) in the environment " +
    "(or the adapter's env option); the adapter keeps the CLI's state apart from ~/.gemini, so a " +
    "browser login there is not used",
});

export const GEMINI_CAPABILITIES: readonly Capability[] = Object.freeze([
  Object.freeze({ name: "streaming", type: "sampling", description: "text deltas; no thoughts" }),
  Object.freeze({ name: "tool_use", type: "tool" }),
  Object.freeze({ name: "system_prompts", type: "prompt", description: "replaces Gemini's own" }),
  Object.freeze({ name: "file_operations", type: "file_access" }),
  Object.freeze({ name: "bash", type: "code_execution", description: "run_shell_command (yolo mode)" }),
  Object.freeze({ name: "web", type: "network_access", description: "web_fetch and google_web_search" }),
  Object.freeze({ name: "mcp", type: "tool", description: "mcpServers in providerOptions.settings" }),
] satisfies Capability[]);

/** The Gemini CLI (`@google/gemini-cli`), spawned headless with `-o stream-json`. */
export const geminiProvider: ProviderDescriptor<GeminiAdapterOptions, GeminiRunOptions> = {
  name: GEMINI_IDENTITY.name,
  displayName: GEMINI_IDENTITY.displayName,
  capabilities: GEMINI_CAPABILITIES,
  credentials: {
    env: ["GEMINI_API_KEY", "GOOGLE_API_KEY", "GOOGLE_GENAI_USE_VERTEXAI"],
    hint: GEMINI_IDENTITY.loginHint,
  },
  optionsSchema: geminiOptionsSchema,
  runOptionsSchema: geminiRunOptionsSchema,
  cli: {
    input: "prompt",
    options: COMMON_CLI_OPTIONS,
    env: ["executable", "model"],
  },
  async create(options) {
    const { GeminiAdapter } = await import("./gemini-adapter.js");
    return new GeminiAdapter(options);
  },
};

import { homedir } from "node:os";
import { join } from "node:path";
import type { Capability } from "../../core/capabilities.js";
import { COMMON_CLI_OPTIONS, type ProviderDescriptor } from "../provider-descriptor.js";
import { PROVIDERS } from "../shared/provider-failures.js";
import {
  type ClaudeAdapterOptions,
  type ClaudeRunOptions,
  claudeOptionsSchema,
  claudeRunOptionsSchema,
} from "./options.js";

const IDENTITY = PROVIDERS.claude;

export const CLAUDE_CAPABILITIES: readonly Capability[] = Object.freeze([
  Object.freeze({ name: "streaming", type: "sampling" }),
  Object.freeze({ name: "tool_use", type: "tool" }),
  Object.freeze({ name: "system_prompts", type: "prompt" }),
  Object.freeze({
    name: "vision",
    type: "resource",
    description: "images in tool results; run input is text",
  }),
  Object.freeze({ name: "file_operations", type: "file_access" }),
  Object.freeze({ name: "bash", type: "code_execution" }),
  Object.freeze({ name: "web", type: "network_access", description: "WebFetch and WebSearch tools" }),
  Object.freeze({ name: "mcp", type: "tool" }),
  Object.freeze({ name: "interrupt", type: "sampling" }),
] satisfies Capability[]);

/** Claude Code (through `@anthropic-ai/claude-agent-sdk`), loaded when the first adapter is created. */
export const claudeProvider: ProviderDescriptor<ClaudeAdapterOptions, ClaudeRunOptions> = {
  name: IDENTITY.name,
  displayName: IDENTITY.displayName,
  capabilities: CLAUDE_CAPABILITIES,
  credentials: {
    env: [
      "ANTHROPIC_API_KEY",
      "ANTHROPIC_AUTH_TOKEN",
      "CLAUDE_CODE_OAUTH_TOKEN",
      "CLAUDE_CODE_USE_BEDROCK",
      "CLAUDE_CODE_USE_VERTEX",
    ],
    loginFile: (env) =>
      join(env.CLAUDE_CONFIG_DIR ?? join(env.HOME ?? homedir(), ".claude"), ".credentials.json"),
    // Claude Code keeps its macOS login in the keychain, which cannot be read from here.
    uncheckableOn: ["darwin"],
    hint: IDENTITY.loginHint,
  },
  optionsSchema: claudeOptionsSchema,
  runOptionsSchema: claudeRunOptionsSchema,
  cli: {
    input: "prompt",
    // Claude Code honours every common option.
    options: COMMON_CLI_OPTIONS,
    env: ["executable", "model"],
  },
  async create(options) {
    const { ClaudeAdapter } = await import("./claude-adapter.js");
    return new ClaudeAdapter(options);
  },
};

import { homedir } from "node:os";
import { join } from "node:path";
import type { Capability } from "../../core/capabilities.js";
import type { ProviderDescriptor } from "../provider-descriptor.js";
import { PROVIDERS } from "../shared/provider-failures.js";
import {
  type CodexAdapterOptions,
  type CodexRunOptions,
  codexOptionsSchema,
  codexRunOptionsSchema,
} from "./options.js";

const IDENTITY = PROVIDERS.codex;

export const CODEX_CAPABILITIES: readonly Capability[] = Object.freeze([
  Object.freeze({
    name: "streaming",
    type: "sampling",
    description: "events stream as Codex reports items; messages arrive whole, with no text deltas",
  }),
  Object.freeze({ name: "tool_use", type: "tool" }),
  Object.freeze({
    name: "system_prompts",
    type: "prompt",
    description: "added as Codex developer instructions",
  }),
  Object.freeze({ name: "file_operations", type: "file_access" }),
  Object.freeze({ name: "bash", type: "code_execution", description: "sandboxed by the permission mode" }),
  Object.freeze({ name: "web", type: "network_access", description: "Codex's web search tool" }),
  Object.freeze({ name: "mcp", type: "tool" }),
  Object.freeze({
    name: "interrupt",
    type: "sampling",
    enabled: false,
    description: "codex exec has no soft interrupt; a cancel stops the process",
  }),
  Object.freeze({
    name: "tool_permissions",
    type: "tool",
    enabled: false,
    description:
      'no per-tool allow or deny list in codex exec: deniedTools takes only "WebSearch"; a policy can also switch off the shell tool and file changes',
  }),
] satisfies Capability[]);

/** The Codex CLI (through `@openai/codex-sdk`), loaded when the first adapter is created. */
export const codexProvider: ProviderDescriptor<CodexAdapterOptions, CodexRunOptions> = {
  name: IDENTITY.name,
  displayName: IDENTITY.displayName,
  capabilities: CODEX_CAPABILITIES,
  credentials: {
    env: ["CODEX_API_KEY", "OPENAI_API_KEY"],
    loginFile: (env) => join(env.CODEX_HOME ?? join(env.HOME ?? homedir(), ".codex"), "auth.json"),
    hint: IDENTITY.loginHint,
  },
  optionsSchema: codexOptionsSchema,
  runOptionsSchema: codexRunOptionsSchema,
  cli: {
    input: "prompt",
    // codex exec has no turn limit and no tool allow list (the adapter refuses both);
    // deniedTools takes only WebSearch.
    options: ["executable", "model", "permissionMode", "cwd", "systemPrompt", "deniedTools"],
    env: ["executable", "model"],
  },
  async create(options) {
    const { CodexAdapter } = await import("./codex-adapter.js");
    return new CodexAdapter(options);
  },
};

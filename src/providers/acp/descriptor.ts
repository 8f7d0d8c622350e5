import type { Capability } from "../../core/capabilities.js";
import type { ProviderDescriptor } from "../provider-descriptor.js";
import type { ProviderIdentity } from "../shared/provider-failures.js";
import {
  type AcpAdapterOptions,
  type AcpRunOptions,
  acpOptionsSchema,
  acpRunOptionsSchema,
} from "./options.js";

/** Who the ACP provider is, for its errors. */
export const ACP_IDENTITY: ProviderIdentity = Object.freeze({
  name: "acp",
  displayName: "ACP agent",
  installHint:
    "npm install @agentclientprotocol/sdk, and install the agent itself (e.g. @google/gemini-cli for the " +
    "gemini preset); or pass the agent's argv as the agent option (CLI: --agent-command)",
  loginHint:
    "give the agent its credentials in the environment (the adapter's env option), as the agent documents",
});

export const ACP_CAPABILITIES: readonly Capability[] = Object.freeze([
  Object.freeze({ name: "streaming", type: "sampling", description: "message and thought chunks" }),
  Object.freeze({
    name: "tool_use",
    type: "tool",
    description: "the agent's own tools, permission requests through policy and approvals",
  }),
  Object.freeze({ name: "file_operations", type: "file_access", description: "the agent's own file tools" }),
] satisfies Capability[]);

/** Any Agent Client Protocol agent, over stdio with `@agentclientprotocol/sdk`. */
export const acpProvider: ProviderDescriptor<AcpAdapterOptions, AcpRunOptions> = {
  name: ACP_IDENTITY.name,
  displayName: ACP_IDENTITY.displayName,
  capabilities: ACP_CAPABILITIES,
  optionsSchema: acpOptionsSchema,
  runOptionsSchema: acpRunOptionsSchema,
  cli: {
    input: "prompt",
    options: ["permissionMode", "cwd", "allowedTools", "deniedTools"],
    env: [],
    agentCommandOption: "agent",
  },
  async create(options) {
    const { AcpAdapter } = await import("./acp-adapter.js");
    return new AcpAdapter(options);
  },
};

export { AcpAdapter } from "./acp-adapter.js";
export {
  type AcpApprovalRequest,
  type AcpApprovals,
  type ApprovalGateApprovalsOptions,
  approvalGateApprovals,
} from "./approvals.js";
export { ACP_CAPABILITIES, ACP_IDENTITY, acpProvider } from "./descriptor.js";
export { ACP_KIND_TOOL_NAMES, acpToolName, promptModel, promptUsage } from "./event-mapper.js";
export {
  ACP_ADAPTER_DEFAULTS,
  type AcpAdapterOptions,
  type AcpFileSystem,
  type AcpRunOptions,
} from "./options.js";
export { ACP_PRESET_NAMES, ACP_PRESETS, type AcpPreset, type AcpPresetName } from "./presets.js";

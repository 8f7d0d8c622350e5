// The policy feature's public API. The evaluator and the enforcer are the manager's machinery
// and stay internal: a run gets its policy through `executeRun({ policy | policies })`.
export {
  type ApprovalDecision,
  ApprovalGate,
  type ApprovalGateOptions,
  type ApprovalRecord,
  type ApprovalRequest,
  type ApprovalRequestInput,
  type ApprovalState,
  type DecisionResult,
  decisionEventId,
  EXPIRED_REASON,
} from "./approvals.js";
export { APPROVAL_REQUESTED_REASON, cancelForApproval, type RunCanceller } from "./cancel-for-approval.js";
export type { PolicyReport } from "./enforcer.js";
export type { BudgetViolation, ToolViolation, Violation, ViolationKind } from "./evaluator.js";
export {
  DEFAULT_APPROVAL_TTL_MS,
  definePolicy,
  LIMIT_NAMES,
  type LimitName,
  mergePolicies,
  POLICY_ACTIONS,
  type Policy,
  type PolicyAction,
  type PolicyInput,
  preflightPolicy,
  type ToolRule,
} from "./policy.js";
export { type PolicyExtensionOptions, policyExtension } from "./policy-extension.js";

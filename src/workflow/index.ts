export {
  classifyError,
  type ErrorClassification,
  WORKFLOW_ACTIONS,
  type WorkflowAction,
} from "./classify-error.js";
export {
  completeWorkflowSession,
  type StepExecuteParams,
  type StepResult,
  type StepToolCall,
  setupWorkflowSession,
  stepExecute,
  stepResult,
  WORKFLOW_AGENT_ID,
  type WorkflowSessionEnd,
} from "./workflow-bridge.js";

// The workflow bridge, for DAG/workflow engines: a one-shot step, then a multi-step workflow in
// one session (`setupWorkflowSession`, `stepExecute` with its `sessionId`,
// `completeWorkflowSession`), each step's `StepResult` as plain data, and `classifyError`
// routing a failed step to retry / wait_and_retry / failover / cancel / abort.
//
// Checks: the one-shot step's session is completed by the step; the workflow's session stays
// active between steps and is completed at the end; the step result lists the Bash tool call;
// a step on a provider that is down classifies as `failover`, and the workflow fails over to
// the working agent; a policy stop classifies as `cancel`.
//
//   npx tsx examples/workflow-bridge.ts                    # a scripted Claude CLI
//   npx tsx examples/workflow-bridge.ts --provider codex   # the real codex CLI
import {
  classifyError,
  completeWorkflowSession,
  MemorySessionStore,
  SessionManager,
  setupWorkflowSession,
  stepExecute,
  WORKFLOW_ACTIONS,
} from "agent-session-manager";
import { check, createMainAgent, runExample, unreachableAgent } from "./support.js";

runExample(async () => {
  const agent = createMainAgent({
    answer: "Two files: a.txt and b.txt.",
    command: "ls",
    commandOutput: "a.txt\nb.txt\n",
  });
  const store = new MemorySessionStore();
  const manager = new SessionManager({ store, adapter: agent.adapter });

  // 1. A one-shot step: its own session, created and completed by the step.
  const single = await stepExecute(manager, { input: "List the files.", tags: ["nightly"] });
  const singleSession = await store.getSession(single.sessionId);
  console.log(
    `one-shot step: "${single.content}", session ${singleSession.status} (${singleSession.agentId})`,
  );
  check(singleSession.status === "completed", "a one-shot step completes its session");
  if (!agent.live) {
    check(
      single.hasToolCalls && single.toolCalls[0]?.toolName === "Bash",
      "the step result lists the Bash call",
    );
    console.log(
      `tool calls: ${single.toolCalls.map((call) => `${call.toolName} ${call.status}`).join(", ")}`,
    );
  }

  // 2. A workflow of steps in one session, with failover decided by classifyError.
  const sessionId = await setupWorkflowSession(manager, { tags: ["pipeline"] });
  const down = new SessionManager({ store, adapter: unreachableAgent() });
  const results = [];
  for (const [name, input] of [
    ["plan", "Plan the change."],
    ["apply", "Apply it."],
  ] as const) {
    const step = await stepExecute(down, { input, sessionId, metadata: { step: name } }).catch(
      async (error) => {
        const { action, code } = classifyError(error);
        console.log(`step ${name} on the down provider: ${code} -> ${action}`);
        check(action === "failover", "provider_unavailable classifies as failover");
        return stepExecute(manager, { input, sessionId, metadata: { step: name } });
      },
    );
    results.push(step);
    check((await store.getSession(sessionId)).status === "active", "the session stays active between steps");
  }
  const runs = await store.listRuns(sessionId);
  console.log(
    `workflow: ${results.length} steps done, runs ${runs.map((run) => run.status).join(", ")}; session active`,
  );
  const ended = await completeWorkflowSession(manager, sessionId);
  console.log(`completeWorkflowSession: ${ended.status}`);
  check(ended.status === "completed", "the workflow's session completed at the end");

  // 3. A policy stop is a cancel, not a failure to retry.
  const stopped = await stepExecute(manager, {
    input: "List the files.",
    policy: { name: "no-shell", toolRules: [{ deny: ["Bash"] }] },
  }).catch((error: unknown) => classifyError(error));
  if ("action" in stopped) {
    console.log(`policy stop: ${stopped.code} -> ${stopped.action}`);
    check(stopped.action === "cancel", "policy_violation classifies as cancel");
  } else {
    check(agent.live, "a scripted agent runs Bash, which the policy denies");
  }

  const table = Object.entries(WORKFLOW_ACTIONS)
    .map(([code, action]) => `${code}=${action}`)
    .join(" ");
  console.log(`actions (everything else aborts): ${table}`);
});

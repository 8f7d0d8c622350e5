// Approval gates: a person in the loop.
//
// 1. `onViolation: "request_approval"`: a denied tool call does not stop the run; it logs a
//    `tool_approval_requested` event, and the result's policy report lists the request.
// 2. `ApprovalGate` decides requests, from any process sharing the store: `approve`, `deny`, and
//    `expire` (a request left open past its TTL counts as denied). A decision is taken once:
//    a second one is told what stands (`decidedNow: false`).
// 3. `cancelForApproval`: the cancel-and-resume pattern. The run is stopped to wait for a
//    decision (`run_cancelled`, reason `approval_requested`); once granted, a new run in the same
//    session carries on.
// 4. Stacking orders the actions by strictness: cancel > request_approval > warn.
//
//   npx tsx examples/approval-gates.ts                    # a scripted Claude CLI
//   npx tsx examples/approval-gates.ts --provider codex   # the real codex CLI
import {
  ApprovalGate,
  cancelForApproval,
  definePolicy,
  MemorySessionStore,
  mergePolicies,
  type PolicyInput,
  SessionManager,
} from "agent-session-manager";
import { createMainAgent, runExample } from "./support.js";

const gatePolicy: PolicyInput = {
  name: "gate",
  toolRules: [{ deny: ["Bash"] }],
  onViolation: "request_approval",
};

runExample(async () => {
  const agent = createMainAgent({ command: "git push", answer: "Pushed." });
  const store = new MemorySessionStore();
  const manager = new SessionManager({ store, adapter: agent.adapter });
  const gate = new ApprovalGate(store);

  console.log("== 1. request_approval: the run goes on");
  const result = await manager.runOnce("Push the branch.", { policy: gatePolicy });
  console.log(`  run completed: ${result.output.content}`);
  const requests = result.policy?.approvals ?? [];
  for (const request of requests)
    console.log(`  approval requested: ${request.toolName} (${request.approvalId})`);

  console.log("== 2. deciding");
  for (const request of requests) {
    const first = await gate.approve(result.sessionId, request.approvalId, { by: "alice" });
    const second = await gate.deny(result.sessionId, request.approvalId, { by: "bob" });
    console.log(`  alice: ${first.decision.status} (decidedNow ${first.decidedNow})`);
    console.log(`  bob, too late: ${second.decision.status} stands (decidedNow ${second.decidedNow})`);
  }
  const target = { sessionId: result.sessionId };
  const refused = await gate.request(target, { toolName: "Bash", policyName: "gate" });
  const denial = await gate.deny(result.sessionId, refused.approvalId, { reason: "not today" });
  console.log(`  denied: ${denial.decision.reason}`);
  await gate.request(target, { toolName: "Bash", policyName: "gate", ttlMs: 60_000 });
  // A gate whose clock is two minutes ahead sees that request past its TTL.
  const later = new ApprovalGate(store, { now: () => Date.now() + 120_000 });
  for (const expiry of await later.expire(result.sessionId))
    console.log(`  expired: denied (${expiry.reason})`);

  console.log("== 3. cancel and resume");
  // The scripted agent waits a moment after starting the command: time to stop it.
  agent.play({ command: "git push --force", thinkMs: 5000, answer: "Force-pushed." });
  const session = await manager.activateSession((await manager.startSession({ agentId: "release" })).id);
  const run = await manager.startRun(session.id, "Force-push the branch.");
  let pause: ReturnType<typeof cancelForApproval> | undefined;
  await manager
    .executeRun(run.id, {
      onEvent: (event) => {
        if (event.type !== "tool_call_started" || pause) return;
        pause = cancelForApproval(manager, run.id, {
          toolName: event.data.toolName,
          toolInput: event.data.toolInput ?? {},
          policyName: "release-review",
        });
      },
    })
    .catch(() => undefined); // it rejects with `cancelled`: that is the pause
  if (pause === undefined) {
    console.log("  the agent called no tool: nothing to approve");
  } else {
    const { run: stopped, request } = await pause;
    console.log(`  run ${stopped.status}: waiting for approval of ${request.toolName}`);
    await gate.approve(session.id, request.approvalId, { by: "release-manager" });
    agent.play({ answer: "Force-pushed, as approved." });
    const resumed = await manager.startRun(session.id, "Approved: go ahead with the force-push.");
    console.log(`  resumed: ${(await manager.executeRun(resumed.id)).output.content}`);
  }

  console.log("== 4. strictness when stacking");
  const warn = definePolicy({ name: "audit", onViolation: "warn" });
  const ask = definePolicy({ name: "gate", onViolation: "request_approval" });
  const cancel = definePolicy({ name: "org", onViolation: "cancel" });
  console.log(`  warn + request_approval -> ${mergePolicies([warn, ask]).onViolation}`);
  console.log(`  warn + request_approval + cancel -> ${mergePolicies([warn, ask, cancel]).onViolation}`);
});

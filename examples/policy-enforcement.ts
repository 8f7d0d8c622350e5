// Policy enforcement. A policy given to `executeRun` (or `runOnce`) is enforced on the run's
// events as they are stored; here it denies the shell tool (`Bash`, the canonical name every
// provider's shell calls carry) and the agent runs a shell command anyway:
//
// - `onViolation: "cancel"`: the provider is stopped and the run fails with `policy_violation`;
// - `onViolation: "warn"`: the run completes, and the result's `policy` report lists the violation.
//
// Both log a `policy_violation` event. (The adapter also tells the provider to refuse the tool
// before it runs, see policy-v2.ts; a real agent may then never call it, and nothing is violated.)
//
//   npx tsx examples/policy-enforcement.ts                   # a scripted Claude CLI
//   npx tsx examples/policy-enforcement.ts --provider amp    # the real amp CLI

import type { AsmEvent, PolicyAction } from "agent-session-manager";
import { AsmError, MemorySessionStore, SessionManager } from "agent-session-manager";
import { createMainAgent, describeEvent, runExample } from "./support.js";

const PROMPT = "Run `ls` in a shell and tell me what you see.";

runExample(async () => {
  const agent = createMainAgent({
    command: "ls",
    commandOutput: "notes.txt\n",
    // The scripted agent takes a moment after the command, so the cancel visibly stops it.
    thinkMs: 1000,
    answer: "One file: notes.txt.",
  });
  const manager = new SessionManager({ store: new MemorySessionStore(), adapter: agent.adapter });

  for (const onViolation of ["cancel", "warn"] satisfies PolicyAction[]) {
    console.log(`\n== onViolation: ${onViolation}`);
    const events: AsmEvent[] = [];
    try {
      const result = await manager.runOnce(PROMPT, {
        policy: { name: "no-shell", toolRules: [{ deny: ["Bash"] }], onViolation },
        onEvent: (event) => events.push(event),
      });
      console.log(`run completed: ${result.output.content}`);
      console.log(`violations reported: ${result.policy?.violations.length ?? 0}`);
    } catch (error) {
      if (!AsmError.is(error, "policy_violation")) throw error;
      console.log(`run failed: ${error.code}: ${error.message}`);
    }
    for (const event of events.filter((each) => each.runId !== undefined)) console.log(describeEvent(event));
  }
});

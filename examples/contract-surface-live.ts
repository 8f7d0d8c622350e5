// Runtime contract checks: what the library promises about an adapter, a run, its events and its
// errors, checked at run time against each provider — the checks a new adapter or an upgraded
// CLI has to pass.
//
// Checks, per provider: the adapter declares the port's specification version, a name and
// capabilities of known types, the same as its registry descriptor; the run's stored events all
// pass their type's schema (no `validationIssues`), have contiguous sequences, and end with
// exactly one terminal event, the run's status; the result has its documented fields; misuse
// fails with the documented error codes: `validation_error` for a bad `executeRun` option (the run
// left `pending`) and for an unknown option in the provider's namespace (the run `failed`, the
// error stored), `invalid_transition` for executing a finished run, `invalid_status` for a run in
// a finished session, `session_not_found`.
//
//   npx tsx examples/contract-surface-live.ts                    # scripted Claude, Codex and Amp CLIs
//   npx tsx examples/contract-surface-live.ts --provider claude  # the real claude CLI
import type { ErrorCode, ProviderAdapter } from "agent-session-manager";
import {
  AsmError,
  CAPABILITY_TYPES,
  getProvider,
  isErrorCode,
  isTerminalRunEventType,
  MemorySessionStore,
  PROVIDER_ADAPTER_SPECIFICATION,
  SessionManager,
  validateEventData,
} from "agent-session-manager";
import { check, checkContiguous, createAgents, runExample } from "./support.js";

runExample(async () => {
  for (const agent of createAgents({ answer: "4" })) {
    const { adapter } = agent;
    checkAdapter(adapter);
    const runChecks = await checkRun(adapter);
    const errorCodes = await checkErrors(adapter);
    console.log(
      `${adapter.name}: adapter ok (${adapter.capabilities.length} capabilities, spec ${adapter.specificationVersion})`,
    );
    console.log(`${adapter.name}: run ok (${runChecks})`);
    console.log(`${adapter.name}: errors ok (${errorCodes.join(", ")})`);
  }
  console.log("contract surface: all checks passed");
});

function checkAdapter(adapter: ProviderAdapter): void {
  check(adapter.specificationVersion === PROVIDER_ADAPTER_SPECIFICATION, "adapter specification version");
  check(/^[a-z][a-z0-9-]*$/.test(adapter.name), "adapter name is lower-case");
  check(adapter.capabilities.length > 0, "adapter has capabilities");
  const known: readonly string[] = CAPABILITY_TYPES;
  for (const capability of adapter.capabilities) {
    check(known.includes(capability.type), `capability type ${capability.type} is known`);
  }
  const descriptor = getProvider(adapter.name);
  check(
    JSON.stringify(descriptor?.capabilities) === JSON.stringify(adapter.capabilities),
    "the registry descriptor reports the adapter's capabilities",
  );
}

async function checkRun(adapter: ProviderAdapter): Promise<string> {
  const store = new MemorySessionStore();
  const manager = new SessionManager({ store, adapter });
  const result = await manager.runOnce("What is 2 + 2? Answer with the number only.");
  const events = await store.getEvents(result.sessionId, { runId: result.runId });
  checkContiguous(events);
  for (const event of events) {
    const issues = validateEventData(event.type, event.data);
    check(issues.length === 0, `${event.type} data matches its schema: ${JSON.stringify(issues)}`);
    check(event.metadata.validationIssues === undefined, `${event.type} stored without validation issues`);
    check(!Number.isNaN(Date.parse(event.timestamp)), `${event.type} has an ISO timestamp`);
  }
  const terminal = events.filter((event) => isTerminalRunEventType(event.type));
  check(terminal.length === 1 && terminal[0] === events.at(-1), "exactly one terminal event, last");
  const run = await store.getRun(result.runId);
  check(run.status === "completed" && terminal[0]?.type === "run_completed", "terminal event matches status");
  check(typeof result.stopReason === "string" && result.durationMs >= 0, "stopReason and durationMs");
  check(result.costUsd === null || result.costUsd >= 0, "costUsd is a number or null");
  check(result.events.length === events.length, "the result lists every event of the run");
  return `${events.length} events valid, one terminal ${terminal[0]?.type}`;
}

async function checkErrors(adapter: ProviderAdapter): Promise<ErrorCode[]> {
  const store = new MemorySessionStore();
  const manager = new SessionManager({ store, adapter });
  const session = await manager.activateSession((await manager.startSession({ agentId: "contract" })).id);
  const codes: ErrorCode[] = [];
  const expectCode = async (code: ErrorCode, attempt: () => Promise<unknown>) => {
    const error = await attempt().then(
      () => undefined,
      (failure: unknown) => failure,
    );
    check(AsmError.is(error, code), `expected ${code}, got ${String(error)}`);
    check(isErrorCode(error.code), `${code} is in the taxonomy`);
    codes.push(code);
  };

  const run = await manager.startRun(session.id, "Say hi.");
  // The manager's own options are checked before anything moves: the run stays pending.
  await expectCode("validation_error", () => manager.executeRun(run.id, { timeoutMs: -1 }));
  check((await store.getRun(run.id)).status === "pending", "a run refused by the manager stays pending");
  // The adapter checks its own namespace when it starts: the run fails, the error stored with it.
  await expectCode("validation_error", () =>
    manager.executeRun(run.id, { providerOptions: { [adapter.name]: { noSuchOption: true } } }),
  );
  const failed = await store.getRun(run.id);
  check(
    failed.status === "failed" && failed.error?.code === "validation_error",
    "the run failed with its error",
  );
  // A finished run never runs again; a finished session takes no run; a missing session is named.
  await expectCode("invalid_transition", () => manager.executeRun(run.id));
  await manager.completeSession(session.id);
  await expectCode("invalid_status", () => manager.startRun(session.id, "Say hi."));
  await expectCode("session_not_found", () => manager.startRun("session_missing", "Say hi."));
  return codes;
}

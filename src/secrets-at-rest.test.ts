/**
 * The proof that secrets never reach the disk unredacted: 27 kinds of secret planted in every
 * persisted field, through real runs on the SessionManager (a scripted adapter for the fields an
 * agent fills, the shell provider for a real process's stdout, stderr and exit), then the raw
 * SQLite file and WAL, a pg_dump of the PostgreSQL schema and the CLI's export are searched.
 * With redaction on: not one found. With redaction off: every field's secrets are found, so the
 * search is known to see each field.
 */
import { execFile } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import Database from "better-sqlite3";
import { afterAll, describe, expect, it } from "vitest";
import { asm, requireBuiltCli } from "./cli/test-support/cli.js";
import { AsmError } from "./core/errors.js";
import type { AsmEvent } from "./core/events.js";
import {
  fingerprints,
  found,
  plantedSecrets,
  secretBlob,
  secretObject,
  sensitiveValue,
  splitDeltas,
} from "./manager/test-support/planted-secrets.js";
import { ScriptedAdapter } from "./manager/test-support/scripted-adapter.js";
import { ApprovalGate } from "./policy/approvals.js";
import type { DurableSessionStore } from "./ports/durable-store.js";
import { ShellAdapter } from "./providers/shell/index.js";
import { SessionManager } from "./session-manager.js";
import { TEST_DATABASE_URL } from "./stores/postgres/test-support/database.js";
import { useTestSchemas } from "./stores/postgres/test-support/harness.js";
import { openSqliteStore } from "./stores/sqlite/index.js";

const run = promisify(execFile);

/** Each persisted field, with the salt of the secrets planted in it. */
const FIELDS = {
  sessionMetadata: "SMETA",
  sessionContext: "SCTX",
  sessionTags: "STAGS",
  runPrompt: "RPROMPT",
  runMessages: "RMSGS",
  runMetadata: "RMETA",
  runOutput: "ROUT",
  resultMetadata: "RRESMETA",
  providerMetadata: "RPROVMETA",
  errorMessage: "RERRMSG",
  errorDetails: "RERRDET",
  errorStderr: "RERRSTDERR",
  eventData: "EDATA",
  eventMetadata: "EMETA",
  toolInput: "ETOOLIN",
  toolOutput: "ETOOLOUT",
  nestedDeep: "EDEEP40",
  splitStdout: "ESPLITOUT",
  splitStderr: "ESPLITERR",
  cancelReason: "CREASON",
  approvalInput: "AINPUT",
  approvalNote: "ANOTE",
  shellStdout: "XSTDOUT",
  shellStderr: "XSTDERR",
} as const;
type Field = keyof typeof FIELDS;

/** Beyond every depth cap (the redactor's and the stores'): never stored raw, redaction or not. */
const BEYOND_CAP = { salt: "EDEEP100", depth: 100 };

/** Fields given a secret blob or list (text only): their fingerprints are the secrets' random parts. */
const TEXT_ONLY: ReadonlySet<Field> = new Set<Field>([
  "sessionTags",
  "runPrompt",
  "runMessages",
  "providerMetadata",
  "errorMessage",
  "errorStderr",
  "cancelReason",
  "approvalNote",
  "shellStderr",
]);

/** Where the shell command's stdout is cut in two writes: inside the first secret. */
const SHELL_CUT = 10;

/** The fingerprints of each field (a split secret's are its halves: either alone is a leak). */
function fieldPrints(field: Field): string[] {
  const salt = FIELDS[field];
  const secrets = plantedSecrets(salt).map((planted) => planted.secret);
  if (field === "splitStdout" || field === "splitStderr") return splitDeltas(salt).fingerprints;
  if (field === "shellStdout") {
    const [first = "", ...rest] = secrets;
    return [first.slice(0, SHELL_CUT), first.slice(SHELL_CUT), ...rest];
  }
  return TEXT_ONLY.has(field) ? secrets : fingerprints(salt);
}

function nest(value: unknown, depth: number): unknown {
  let node = value;
  for (let level = 0; level < depth; level++) node = { level, next: node };
  return node;
}

interface Scenario {
  sessionIds: string[];
  /** The prompt the scripted provider was given. */
  promptSeen: string | undefined;
  events: AsmEvent[];
}

/** Every way the project persists something, each carrying its field's secrets. */
async function plantEverywhere(store: DurableSessionStore, redaction: boolean): Promise<Scenario> {
  let promptSeen: string | undefined;
  const agent = new ScriptedAdapter(async (request, sink) => {
    promptSeen = request.run.input.prompt;
    sink.emit({ type: "run_started", data: { model: "scripted-model" } });
    sink.emit({
      type: "message_received",
      data: {
        role: "assistant",
        content: secretBlob(FIELDS.eventData),
        details: secretObject(FIELDS.eventData),
      },
    });
    sink.emit({
      type: "message_received",
      data: { role: "assistant", content: "ok" },
      metadata: secretObject(FIELDS.eventMetadata),
    });
    sink.emit({
      type: "tool_call_started",
      data: {
        toolCallId: "call-1",
        toolName: "Bash",
        toolInput: { command: secretBlob(FIELDS.toolInput), ...secretObject(FIELDS.toolInput) },
      },
    });
    sink.emit({
      type: "tool_call_completed",
      data: { toolCallId: "call-1", toolName: "Bash", toolOutput: secretObject(FIELDS.toolOutput) },
    });
    sink.emit({
      type: "message_received",
      data: {
        role: "assistant",
        content: "nested",
        deep: nest(secretObject(FIELDS.nestedDeep), 40),
        tooDeep: nest(secretObject(BEYOND_CAP.salt), BEYOND_CAP.depth),
      },
    });
    for (const delta of splitDeltas(FIELDS.splitStdout).deltas)
      sink.emit({ type: "message_streamed", data: { delta } });
    for (const delta of splitDeltas(FIELDS.splitStderr).deltas) {
      sink.emit({ type: "message_streamed", data: { delta, stream: "stderr" } });
    }
    return {
      output: { content: secretBlob(FIELDS.runOutput), extra: secretObject(FIELDS.runOutput) },
      // Under a key of its own: the run's metadata keeps its keys, the provider's are merged over them.
      metadata: {
        fromProvider: secretObject(FIELDS.resultMetadata),
        tooDeep: nest(secretObject(BEYOND_CAP.salt), BEYOND_CAP.depth),
      },
      providerSessionId: secretBlob(FIELDS.providerMetadata),
      model: "scripted-model",
    };
  });
  const manager = new SessionManager({ store, adapter: agent, redaction });
  const events: AsmEvent[] = [];
  const succeeded = await manager.runOnce(
    {
      prompt: secretBlob(FIELDS.runPrompt),
      messages: [{ role: "user", content: secretBlob(FIELDS.runMessages) }],
    },
    {
      sessionMetadata: secretObject(FIELDS.sessionMetadata),
      context: secretObject(FIELDS.sessionContext),
      tags: plantedSecrets(FIELDS.sessionTags).map((planted) => planted.text),
      metadata: secretObject(FIELDS.runMetadata),
      onEvent: (event) => events.push(event),
    },
  );

  // A failing provider: the error's message, details and stderr.
  const failing = new SessionManager({
    store,
    adapter: new ScriptedAdapter(async () => {
      throw new AsmError("provider_error", secretBlob(FIELDS.errorMessage), {
        details: secretObject(FIELDS.errorDetails),
        providerError: {
          provider: "scripted",
          kind: "process_error",
          message: secretBlob(FIELDS.errorMessage),
          stderr: secretBlob(FIELDS.errorStderr),
        },
      });
    }),
    redaction,
  });
  const failed = await failing.runOnce("fail").catch((error: unknown) => error);
  expect(AsmError.is(failed, "provider_error")).toBe(true);
  const failedSessionId = (failed as AsmError).details.sessionId as string;

  // A run cancelled before it started, with a reason that carries secrets.
  const session = await manager.startSession({ agentId: "cancel" });
  await manager.activateSession(session.id);
  const pending = await manager.startRun(session.id, "never run");
  await manager.cancelRun(pending.id, secretBlob(FIELDS.cancelReason));

  // An approval request and its decision, logged outside any run.
  const gate = new ApprovalGate(store, { redaction });
  const request = await gate.request(
    { sessionId: succeeded.sessionId, runId: succeeded.runId },
    { toolName: "Bash", toolInput: secretObject(FIELDS.approvalInput), policyName: "review" },
  );
  await gate.deny(succeeded.sessionId, request.approvalId, { note: secretBlob(FIELDS.approvalNote) });

  // A real process: secrets on stdout (one cut across two writes) and stderr, then a failing exit.
  const stdout = secretBlob(FIELDS.shellStdout);
  const stderr = secretBlob(FIELDS.shellStderr);
  const cut = stdout.indexOf(plantedSecrets(FIELDS.shellStdout)[0]?.secret ?? "") + SHELL_CUT;
  const shell = new SessionManager({
    store,
    adapter: new ShellAdapter({
      env: { OUT_A: stdout.slice(0, cut), OUT_B: stdout.slice(cut), ERR: stderr },
      successExitCodes: [0],
    }),
    redaction,
  });
  const script = 'printf %s "$OUT_A"; sleep 0.3; printf "%s\\n" "$OUT_B"; printf "%s\\n" "$ERR" >&2; exit 3';
  const shellFailure = await shell
    .runOnce({ command: ["sh", "-c", script] })
    .catch((error: unknown) => error);
  expect(AsmError.is(shellFailure, "command_failed")).toBe(true);
  const shellSessionId = (shellFailure as AsmError).details.sessionId as string;

  return {
    sessionIds: [succeeded.sessionId, failedSessionId, session.id, shellSessionId],
    promptSeen,
    events,
  };
}

/** Everything the store wrote, as text: raw file bytes, or a dump. */
interface Backend {
  name: string;
  open(): Promise<{ store: DurableSessionStore; location: string; dump(): Promise<string> }>;
}

const tempDirs: string[] = [];
afterAll(() => {
  for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true });
});

const sqlite: Backend = {
  name: "SQLite",
  async open() {
    const dir = mkdtempSync(join(tmpdir(), "asm-secrets-"));
    tempDirs.push(dir);
    const path = join(dir, "asm.db");
    const store = await openSqliteStore({ path });
    const rawFiles = () =>
      [path, `${path}-wal`]
        .filter((file) => existsSync(file))
        .map((file) => readFileSync(file).toString("latin1"))
        .join("\n");
    return {
      store,
      location: path,
      async dump() {
        // The file and its WAL while open, every row as read back, and the file once checkpointed.
        const whileOpen = rawFiles();
        const db = new Database(path, { readonly: true });
        const tables = db
          .prepare("SELECT name FROM sqlite_master WHERE type = 'table'")
          .pluck()
          .all() as string[];
        const rows = tables.map((table) => JSON.stringify(db.prepare(`SELECT * FROM "${table}"`).all()));
        db.close();
        await store.close();
        return [whileOpen, ...rows, rawFiles()].join("\n");
      },
    };
  },
};

const schemas = useTestSchemas();
const postgres: Backend = {
  name: "PostgreSQL",
  async open() {
    const schema = schemas.newSchema("secrets");
    const store = await schemas.openIn(schema);
    const url = new URL(TEST_DATABASE_URL);
    url.searchParams.set("schema", schema);
    return {
      store,
      location: url.toString(),
      async dump() {
        await store.close();
        const { stdout } = await run("pg_dump", ["--dbname", TEST_DATABASE_URL, "--schema", schema], {
          maxBuffer: 256 * 1024 * 1024,
        });
        expect(stdout).toContain("COPY");
        return stdout;
      },
    };
  },
};

/** What the CLI's export writes for each session, with or without `--no-redact`. */
async function exports(location: string, sessionIds: readonly string[], redact: boolean): Promise<string> {
  const texts: string[] = [];
  for (const sessionId of sessionIds) {
    const result = await asm(["export", sessionId, "--db", location, ...(redact ? [] : ["--no-redact"])]);
    expect(result.stderr).toBe("");
    expect(result.code).toBe(0);
    texts.push(result.stdout);
  }
  return texts.join("\n");
}

function leaks(text: string): Partial<Record<Field | "beyondCap", string[]>> {
  const result: Partial<Record<Field | "beyondCap", string[]>> = {};
  for (const field of Object.keys(FIELDS) as Field[]) {
    const hits = found(text, fieldPrints(field));
    if (hits.length > 0) result[field] = hits;
  }
  const beyond = found(text, fingerprints(BEYOND_CAP.salt));
  if (beyond.length > 0) result.beyondCap = beyond;
  return result;
}

describe.each([sqlite, postgres])("secrets at rest on $name", (backend) => {
  it("with redaction on, not one of the planted secrets is in the stored bytes or the export", async () => {
    requireBuiltCli();
    const { store, location, dump } = await backend.open();
    const scenario = await plantEverywhere(store, true);

    // The provider still got the prompt as given; only what is stored is redacted.
    expect(scenario.promptSeen).toBe(secretBlob(FIELDS.runPrompt));
    const toolCall = scenario.events.find((event) => event.type === "tool_call_started");
    expect(toolCall?.metadata.redactedFields).toContain("data.toolInput.command");
    expect(toolCall?.metadata.redactions).toBeGreaterThan(27);
    const sessionRecord = await store.getSession(scenario.sessionIds[0] as string);
    expect(sessionRecord.metadata.redactedFields).toEqual(
      expect.arrayContaining(["metadata.blob", "metadata.list[0]", "metadata.password"]),
    );

    const stored = await dump();
    expect(stored.length).toBeGreaterThan(10_000);
    expect(leaks(stored)).toEqual({});
    expect(leaks(await exports(location, scenario.sessionIds, true))).toEqual({});
  });

  it("with redaction off, every field's secrets are found: the search sees each field", async () => {
    requireBuiltCli();
    const { store, location, dump } = await backend.open();
    const scenario = await plantEverywhere(store, false);
    expect(scenario.promptSeen).toBe(secretBlob(FIELDS.runPrompt));
    const texts = { stored: await dump(), exported: await exports(location, scenario.sessionIds, false) };
    for (const [where, text] of Object.entries(texts)) {
      for (const field of Object.keys(FIELDS) as Field[]) {
        expect({ where, field, found: found(text, fieldPrints(field)).length }).toEqual({
          where,
          field,
          found: fieldPrints(field).length,
        });
      }
    }
    // The CLI's export redacts by default, whatever the store holds.
    expect(leaks(await exports(location, scenario.sessionIds, true))).toEqual({});
  });
});

describe("planted secrets", () => {
  it("plants at least 20 kinds, each with a distinct random part per field", () => {
    const kinds = plantedSecrets("A");
    expect(kinds.length).toBeGreaterThanOrEqual(20);
    expect(new Set(kinds.map((planted) => planted.kind)).size).toBe(kinds.length);
    const all = Object.values(FIELDS).flatMap((salt) => fingerprints(salt));
    expect(new Set(all).size).toBe(all.length);
    expect(sensitiveValue("A", "password")).not.toBe(sensitiveValue("B", "password"));
  });
});

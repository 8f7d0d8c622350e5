/**
 * Test support shared by the SDK-backed adapters' tests (Claude, Codex): an adapter on a scripted
 * CLI playing a transcript, one run of it with every event checked, and the outcome's assertions.
 * Test-only: excluded from the published build (tsconfig.build.json).
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, expect } from "vitest";
import { AsmError, type ErrorCode } from "../../core/errors.js";
import { type AdapterEvent, isTerminalRunEventType, validateEventData } from "../../core/events.js";
import type { RunInput } from "../../core/run.js";
import type { JsonObject } from "../../core/session.js";
import type { ExecuteResult, ProviderAdapter, ToolRestrictions } from "../../ports/provider-adapter.js";
import {
  type ExecuteRequestParts,
  makeExecuteRequest,
  RecordingSink,
} from "../../testing/adapter-conformance.js";
import {
  readScriptedCliRecord,
  type ScriptedCliProvider,
  type ScriptedCliRecord,
  scriptedCliEnv,
  scriptedCliPath,
} from "../../testing/scripted-cli/index.js";

/** A fresh temporary directory, removed after the test file's tests. */
export function tempWorkDir(prefix: string): string {
  const dir = mkdtempSync(path.join(tmpdir(), prefix));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** The conformance scenarios, as the transcripts of the Claude and Codex scripted CLIs. */
export const CONFORMANCE_TRANSCRIPTS = {
  text: "text.jsonl",
  tool_call: "tool-use.jsonl",
  failure: "failure.jsonl",
  stall: "stall.jsonl",
  malformed_line: "malformed.jsonl",
  auth_failure: "auth-failure.jsonl",
  rate_limited: "rate-limited.jsonl",
} as const;

/** What the scripted adapters set: the adapters' own options types all have these. */
export interface ScriptedAdapterOptions {
  executablePath?: string;
  cwd?: string;
  killGraceMs?: number;
  env?: Record<string, string>;
}

export interface Scripted<A> {
  adapter: A;
  recordPath: string;
  /** What the scripted CLI saw (argv, env, stdin…); throws when it wrote no record. */
  record(): ScriptedCliRecord;
}

/**
 * `scripted(transcript, options?, dir?)`: an adapter made by `create` running the scripted `cli`
 * playing `transcript` (a name in `transcripts`), in `dir` (default `workDir`), with a kill grace
 * of 300 ms unless `options` say otherwise; `options.env` is kept under the scripted CLI's env.
 */
export function scriptedAdapterFactory<A, O extends ScriptedAdapterOptions>(spec: {
  cli: ScriptedCliProvider;
  transcripts: string;
  workDir: string;
  create: (options: O) => A;
}): (transcript: string, options?: O, dir?: string) => Scripted<A> {
  let counter = 0;
  // Every option of the adapters is optional: `{}` is an O.
  return (transcript, options = {} as O, dir = spec.workDir) => {
    counter += 1;
    const recordPath = path.join(dir, `record-${counter}.json`);
    const adapter = spec.create({
      executablePath: scriptedCliPath(spec.cli),
      cwd: dir,
      killGraceMs: 300,
      ...options,
      env: {
        ...options.env,
        ...scriptedCliEnv({ scenario: path.join(spec.transcripts, transcript), record: recordPath }),
      },
    });
    return {
      adapter,
      recordPath,
      record: () => {
        const record = readScriptedCliRecord(recordPath);
        if (!record) throw new Error("the scripted CLI wrote no record");
        return record;
      },
    };
  };
}

export type Outcome =
  | { ok: true; result: ExecuteResult; sink: RecordingSink }
  | { ok: false; error: unknown; sink: RecordingSink };

/**
 * Executes one run on `adapter` with `options` as its own per-run options (its namespace of
 * `providerOptions`) and the rest of the request from `parts`, checking every event it emitted
 * whether it succeeds or fails.
 */
export async function run(
  adapter: ProviderAdapter,
  input: RunInput = { prompt: "Say hello" },
  options: JsonObject = {},
  signal: AbortSignal = new AbortController().signal,
  parts: ExecuteRequestParts = {},
): Promise<Outcome> {
  const sink = new RecordingSink();
  const request = makeExecuteRequest(input, {
    ...parts,
    providerOptions: { ...parts.providerOptions, [adapter.name]: options },
  });
  try {
    const result = await adapter.execute(request, sink, signal);
    checkEvents(sink.events);
    return { ok: true, result, sink };
  } catch (error) {
    checkEvents(sink.events);
    return { ok: false, error, sink };
  }
}

/** An adapter's events: valid data, no terminal run events, and `run_started` first. */
function checkEvents(events: readonly AdapterEvent[]): void {
  for (const event of events) {
    expect(isTerminalRunEventType(event.type), event.type).toBe(false);
    expect(validateEventData(event.type, event.data), `${event.type} ${JSON.stringify(event.data)}`).toEqual(
      [],
    );
  }
  if (events.length > 0) expect(events[0]?.type).toBe("run_started");
}

export async function succeeds(
  outcome: Promise<Outcome>,
): Promise<{ result: ExecuteResult; sink: RecordingSink }> {
  const settled = await outcome;
  if (!settled.ok) {
    const { error } = settled;
    throw new Error(
      `expected success, got ${error instanceof AsmError ? `${error.code}: ${error.message}` : String(error)}`,
    );
  }
  return settled;
}

export async function fails(
  outcome: Promise<Outcome>,
  code: ErrorCode,
): Promise<{ error: AsmError; sink: RecordingSink }> {
  const settled = await outcome;
  if (settled.ok) throw new Error(`expected ${code}, the run succeeded`);
  const { error } = settled;
  if (!(error instanceof AsmError)) throw new Error(`expected an AsmError, got ${String(error)}`);
  expect(error.code, error.message).toBe(code);
  return { error, sink: settled.sink };
}

/** Events without their envelope: `{ type, data }`. */
export function strip(events: readonly AdapterEvent[]): { type: string; data: unknown }[] {
  return events.map(({ type, data }) => ({ type, data }));
}

/** Executes a "Say hello" run of `scripted` with `toolRules` and returns the argv the CLI was started with. */
export async function argvWithToolRules(
  scripted: Scripted<ProviderAdapter>,
  toolRules: ToolRestrictions | undefined,
): Promise<string[]> {
  const request = { ...makeExecuteRequest({ prompt: "Say hello" }), ...(toolRules ? { toolRules } : {}) };
  await scripted.adapter.execute(request, new RecordingSink(), new AbortController().signal);
  return scripted.record().argv;
}

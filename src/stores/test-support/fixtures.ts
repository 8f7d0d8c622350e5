/** Records (on the conformance suites' fixtures) and assertions the store tests share. */
import { hostname } from "node:os";
import { expect } from "vitest";
import { AsmError, type ErrorCode } from "../../core/errors.js";
import type { EventDraft } from "../../core/events.js";
import type { Run } from "../../core/run.js";
import type { Session } from "../../core/session.js";
import { makeRun, makeSession } from "../../testing/fixtures.js";

export const NOW = "2025-01-01T00:00:00.000Z";

/** A session as it is created: `pending` (stores refuse to create one in another status). */
export const session = (id: string, fields: Partial<Session> = {}): Session =>
  makeSession({ id, agentId: "agent", status: "pending", ...fields });

export const event = (sessionId: string, id: string, fields: Partial<EventDraft> = {}): EventDraft =>
  ({
    id,
    type: "message_streamed",
    sessionId,
    timestamp: NOW,
    data: { delta: id },
    metadata: {},
    ...fields,
  }) as EventDraft;

/** A pid no process can have (above the kernel's pid_max), on this host: its owner is dead. */
export const DEAD_PID = 2 ** 30;

/** A run still marked running, owned by a dead process on this host. */
export const runningRun = (id: string, sessionId: string): Run =>
  makeRun(sessionId, {
    id,
    status: "running",
    input: { prompt: "hi" },
    owner: { hostname: hostname(), pid: DEAD_PID },
    startedAt: NOW,
  });

export async function rejection(promise: Promise<unknown>): Promise<AsmError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof AsmError) return error;
    throw new Error(`expected an AsmError, got ${String(error)}`);
  }
  throw new Error("expected a rejection");
}

export async function expectCode(promise: Promise<unknown>, code: ErrorCode): Promise<AsmError> {
  const error = await rejection(promise);
  expect(error.code, error.message).toBe(code);
  return error;
}

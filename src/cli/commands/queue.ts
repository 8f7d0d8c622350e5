import { AsmError } from "../../core/errors.js";
import type { AsmEvent } from "../../core/events.js";
import type { RunInput } from "../../core/run.js";
import { streamSessionEvents } from "../../manager/stream-events.js";
import type { SessionManager } from "../../session-manager.js";
import { RunQueue } from "../../workers/run-queue.js";
import { EXIT, printJson, reportError } from "../output.js";
import { queueLocationOf } from "./worker.js";

const RUN_ENDS: ReadonlySet<string> = new Set([
  "run_completed",
  "run_failed",
  "run_cancelled",
  "run_timeout",
]);

export interface QueueStatusCommandOptions {
  db?: string;
  json?: boolean;
}

/** `asm queue status`: queued and running runs per session and provider, the caps, the workers seen. */
export async function queueStatusCommand(options: QueueStatusCommandOptions): Promise<number> {
  let queue: RunQueue | undefined;
  try {
    queue = await RunQueue.open(queueLocationOf(options.db));
    const status = await queue.status();
    if (options.json) {
      printJson(status);
      return EXIT.ok;
    }
    const out = process.stdout;
    out.write(
      `queued ${status.queued}, running ${status.running}, max runs ${status.maxRuns ?? "no limit"}\n`,
    );
    for (const provider of status.byProvider) {
      out.write(
        `provider ${provider.provider}: queued ${provider.queued}, running ${provider.running}, limit ${provider.limit ?? "none"}\n`,
      );
    }
    for (const session of status.bySession) {
      out.write(`session ${session.sessionId}: queued ${session.queued}, running ${session.running}\n`);
    }
    for (const worker of status.workers) {
      out.write(
        `worker ${worker.id} (${worker.hostname} pid ${worker.pid}) ${worker.providers.join(",")} x${worker.concurrency}, ${worker.stopped ? "stopped" : "seen"} ${worker.lastSeenAt}\n`,
      );
    }
    return EXIT.ok;
  } catch (error) {
    return reportError(error, options.json === true);
  } finally {
    await queue?.close();
  }
}

/**
 * `asm run --queue`: the run is queued for the workers (in `sessionId`, else a new session),
 * then its events are followed until it ends. Resolves when it completed; rejects with its
 * stored error otherwise (so the exit code is a local run's). `signal` cancels it wherever it is.
 */
export async function runQueued(
  manager: SessionManager,
  db: string | undefined,
  sessionId: string | undefined,
  input: RunInput,
  options: { timeoutMs?: number; onEvent: (event: AsmEvent) => void; signal: AbortSignal },
): Promise<void> {
  const queue = await RunQueue.open(queueLocationOf(db));
  try {
    let session = sessionId;
    if (session === undefined) {
      const created = await manager.startSession({ agentId: manager.adapter.name });
      await manager.activateSession(created.id);
      session = created.id;
    }
    const run = await queue.enqueue(manager, {
      sessionId: session,
      input,
      ...(options.timeoutMs === undefined ? {} : { timeoutMs: options.timeoutMs }),
    });
    const cancel = () => void manager.cancelRun(run.id, "interrupted").catch(() => undefined);
    options.signal.addEventListener("abort", cancel, { once: true });
    // Aborted once the run ended, so the follow's long-poll lets go and the store closes at once.
    const following = new AbortController();
    try {
      const events = streamSessionEvents(manager.store, session, {
        follow: true,
        runId: run.id,
        signal: following.signal,
      });
      for await (const event of events) {
        options.onEvent(event);
        if (RUN_ENDS.has(event.type)) break;
      }
    } finally {
      following.abort();
      options.signal.removeEventListener("abort", cancel);
    }
    const ended = await manager.store.getRun(run.id);
    if (ended.status === "completed") return;
    if (ended.error) throw AsmError.fromJSON(ended.error);
    throw new AsmError(
      ended.status === "timeout" ? "timeout" : "cancelled",
      `run ${run.id} ended ${ended.status}`,
    );
  } finally {
    await queue.close();
  }
}

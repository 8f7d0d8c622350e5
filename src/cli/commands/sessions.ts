import type { SessionStatus } from "../../core/session.js";
import { listQueuedRuns } from "../../runtime/session-server.js";
import { READ_ONLY, withStore } from "../open-store.js";
import { EXIT, paint, printJson, styleFor } from "../output.js";

export interface ListSessionsOptions {
  db?: string;
  status?: string;
  limit: number;
  json?: boolean;
}

/** `asm sessions list`. */
export function listSessionsCommand(options: ListSessionsOptions): Promise<number> {
  return withStore(
    options.db,
    options.json === true,
    async (store) => {
      const sessions = await store.listSessions({
        limit: options.limit,
        ...(options.status ? { status: options.status as SessionStatus } : {}),
      });
      if (options.json) {
        for (const session of sessions) printJson(session);
        return EXIT.ok;
      }
      const style = styleFor(process.stdout);
      if (sessions.length === 0) process.stdout.write(`${paint(style, "gray", "no sessions")}\n`);
      for (const session of sessions) {
        process.stdout.write(
          `${session.id}  ${session.status.padEnd(9)}  ${session.agentId.padEnd(12)}  ${paint(style, "gray", session.createdAt)}\n`,
        );
      }
      return EXIT.ok;
    },
    READ_ONLY,
  );
}

export interface ShowSessionOptions {
  db?: string;
  json?: boolean;
}

/**
 * `asm sessions show <id>`: the session, its runs, the runs in flight and those waiting in its
 * server's queue (in order), and the length of its log.
 */
export function showSessionCommand(sessionId: string, options: ShowSessionOptions): Promise<number> {
  return withStore(
    options.db,
    options.json === true,
    async (store) => {
      const session = await store.getSession(sessionId);
      const runs = await store.listRuns(sessionId, { limit: 1000 });
      const latestSequence = await store.getLatestSequence(sessionId);
      const inFlightRuns = runs.filter((run) => run.status === "running").map((run) => run.id);
      const queuedRuns = (await listQueuedRuns(store, sessionId)).map((run) => run.id);
      if (options.json) {
        printJson({ session, runs, inFlightRuns, queuedRuns, latestSequence });
        return EXIT.ok;
      }
      const style = styleFor(process.stdout);
      const lines = [
        `${paint(style, "bold", session.id)}  ${session.status}`,
        `  agent     ${session.agentId}`,
        `  created   ${session.createdAt}`,
        `  updated   ${session.updatedAt}`,
        ...(session.tags.length > 0 ? [`  tags      ${session.tags.join(", ")}`] : []),
        `  events    ${latestSequence}`,
        `  runs      ${runs.length}`,
        ...runs.map((run) => {
          const usage = `${run.tokenUsage.inputTokens}/${run.tokenUsage.outputTokens} tokens`;
          const error = run.error ? `  [${run.error.code}] ${run.error.message}` : "";
          return `    ${run.id}  ${run.status.padEnd(9)}  ${run.provider ?? "-"}  ${usage}${error}`;
        }),
        `  in flight ${inFlightRuns.length}`,
        ...inFlightRuns.map((id) => `    ${id}`),
        `  queued    ${queuedRuns.length}`,
        ...queuedRuns.map((id, index) => `    ${index + 1}. ${id}`),
      ];
      process.stdout.write(`${lines.join("\n")}\n`);
      return EXIT.ok;
    },
    READ_ONLY,
  );
}

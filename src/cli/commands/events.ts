import type { AsmEvent } from "../../core/events.js";
import { isTerminalSessionStatus } from "../../core/session.js";
import { streamSessionEvents } from "../../manager/stream-events.js";
import type { TextRendererName } from "../../rendering/renderer-names.js";
import { Interruption } from "../interruption.js";
import { READ_ONLY, withStore } from "../open-store.js";
import { EXIT, printJson } from "../output.js";
import { LiveRender } from "../render.js";

export interface EventsOptions {
  db?: string;
  after: number;
  follow?: boolean;
  /** `--keep-following`: follow past the session's end, until interrupted. Implies `follow`. */
  keepFollowing?: boolean;
  json?: boolean;
  /** `--render compact|verbose|studio`. Default studio. */
  render?: TextRendererName;
  /** `--log-file <path>`: the rendered output, plain text. */
  logFile?: string;
  /** `--jsonl-file <path>`: every event, one JSON per line. */
  jsonlFile?: string;
}

/** The events that put a session in a terminal status: nothing is appended after one. */
const SESSION_ENDING_EVENTS: ReadonlySet<AsmEvent["type"]> = new Set([
  "session_completed",
  "session_failed",
  "session_cancelled",
]);

/**
 * `asm events <sessionId>`: the log from a cursor; with --follow, live until the session ends
 * (after its last event, as `docker logs -f` ends with its container), or, with
 * --keep-following, until Ctrl-C (or SIGTERM, SIGHUP, SIGQUIT). Stopping a follow that way, or
 * closing its stdout (`| head`), ends the command quietly with exit 0: it only reads, and it
 * printed what it was asked for.
 */
export async function eventsCommand(sessionId: string, options: EventsOptions): Promise<number> {
  const json = options.json === true;
  const interruption = new Interruption();
  const live = new LiveRender({ ...options, json });
  try {
    return await withStore(
      options.db,
      json,
      async (store) => {
        const session = await store.getSession(sessionId);
        const keepFollowing = options.keepFollowing === true;
        // An ended session's log is complete: following it would wait for nothing.
        const follow = keepFollowing || (options.follow === true && !isTerminalSessionStatus(session.status));
        const events = streamSessionEvents(store, sessionId, {
          after: options.after,
          follow,
          signal: interruption.signal,
        });
        for await (const event of events) {
          if (json) printJson(event);
          live.push(event);
          if (!keepFollowing && SESSION_ENDING_EVENTS.has(event.type)) break;
        }
        return EXIT.ok;
      },
      READ_ONLY,
    );
  } finally {
    await live.finish();
    interruption.dispose();
  }
}

import { streamSessionEvents } from "../../manager/stream-events.js";
import { Interruption } from "../interruption.js";
import { withStore } from "../open-store.js";
import { EXIT, printJson, styleFor } from "../output.js";
import { EventRenderer } from "../render.js";

export interface EventsOptions {
  db?: string;
  after: number;
  follow?: boolean;
  json?: boolean;
}

/**
 * `asm events <sessionId>`: the log from a cursor; with --follow, live until Ctrl-C (or SIGTERM,
 * SIGHUP, SIGQUIT). Stopping a follow that way, or closing its stdout (`| head`), ends the
 * command quietly with exit 0: it only reads, and it printed what it was asked for.
 */
export async function eventsCommand(sessionId: string, options: EventsOptions): Promise<number> {
  const json = options.json === true;
  const interruption = new Interruption();
  const renderer = new EventRenderer(process.stdout, styleFor(process.stdout));
  try {
    return await withStore(options.db, json, async (store) => {
      await store.getSession(sessionId);
      const events = streamSessionEvents(store, sessionId, {
        after: options.after,
        follow: options.follow === true,
        signal: interruption.signal,
      });
      for await (const event of events) {
        if (json) printJson(event);
        else renderer.render(event);
      }
      return EXIT.ok;
    });
  } finally {
    renderer.finish();
    interruption.dispose();
  }
}

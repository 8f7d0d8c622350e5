import { streamSessionEvents } from "../../manager/stream-events.js";
import { withStore } from "../open-store.js";
import { EXIT, printJson, styleFor } from "../output.js";
import { EventRenderer } from "../render.js";

export interface EventsOptions {
  db?: string;
  after: number;
  follow?: boolean;
  json?: boolean;
}

/** `asm events <sessionId>`: the log from a cursor; with --follow, live until Ctrl-C. */
export async function eventsCommand(sessionId: string, options: EventsOptions): Promise<number> {
  const json = options.json === true;
  const controller = new AbortController();
  const interrupt = () => controller.abort();
  process.once("SIGINT", interrupt);
  const renderer = new EventRenderer(process.stdout, styleFor(process.stdout));
  try {
    return await withStore(options.db, json, async (store) => {
      await store.getSession(sessionId);
      const events = streamSessionEvents(store, sessionId, {
        after: options.after,
        follow: options.follow === true,
        signal: controller.signal,
      });
      for await (const event of events) {
        if (json) printJson(event);
        else renderer.render(event);
      }
      return EXIT.ok;
    });
  } finally {
    renderer.finish();
    process.off("SIGINT", interrupt);
  }
}

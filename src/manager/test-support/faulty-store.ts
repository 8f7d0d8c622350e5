import type { EventDraft } from "../../core/events.js";
import type { Run } from "../../core/run.js";
import type { SaveRunOptions, SessionStore } from "../../ports/session-store.js";

/** Decides, per call, whether a write fails: return the error to throw, or `undefined` to write. */
export type FaultRule<Args extends unknown[]> = (...args: Args) => Error | undefined;

export interface Faults {
  appendEvents?: FaultRule<[drafts: readonly EventDraft[]]>;
  saveRun?: FaultRule<[run: Run, options: SaveRunOptions | undefined]>;
}

/**
 * A real store whose `appendEvents` / `saveRun` fail when a rule says so — the failures a
 * database gives (a lock held too long, a lost connection) made deterministic. Everything else,
 * and every write a rule lets through, goes to the real store.
 */
export function faultyStore(store: SessionStore, faults: Faults): SessionStore {
  return new Proxy(store, {
    get(target, property) {
      if (property === "appendEvents" && faults.appendEvents) {
        const rule = faults.appendEvents;
        return async (drafts: readonly EventDraft[]) => {
          const error = rule(drafts);
          if (error) throw error;
          return target.appendEvents(drafts);
        };
      }
      if (property === "saveRun" && faults.saveRun) {
        const rule = faults.saveRun;
        return async (run: Run, options?: SaveRunOptions) => {
          const error = rule(run, options);
          if (error) throw error;
          return target.saveRun(run, options);
        };
      }
      const value: unknown = Reflect.get(target, property);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
}

/** The text of a `message_streamed` draft, for rules that pick a batch by its content. */
export function deltaOf(draft: EventDraft): string | undefined {
  return draft.type === "message_streamed" ? draft.data.delta : undefined;
}

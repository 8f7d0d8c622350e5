import type { AsmEvent, EventDraft } from "../../core/events.js";
import type { Run } from "../../core/run.js";
import type { Session } from "../../core/session.js";
import type {
  EventQuery,
  RunListQuery,
  SaveRunOptions,
  SessionListQuery,
  SessionStore,
} from "../../ports/session-store.js";
import { SESSION_STORE_SPECIFICATION } from "../../ports/session-store.js";
import { AppendNotifier, longPoll } from "../shared/append-notifier.js";
import { sequenceAppend, soleEvent } from "../shared/append-plan.js";
import { runNotFound, sessionNotFound, storeClosed, validationError } from "../shared/errors.js";
import { normalizeEventDrafts } from "../shared/event-draft.js";
import {
  checkEmptyPage,
  matchesEventFilters,
  type NormalizedEventQuery,
  normalizeEventQuery,
} from "../shared/event-query.js";
import {
  normalizeRunListQuery,
  normalizeSessionListQuery,
  validateRun,
  validateSession,
} from "../shared/records.js";
import { checkRunSave, checkSessionSave } from "../shared/transitions.js";

interface SessionEntry {
  session: Session;
  /** `events[i].sequence === i + 1`: sequences are contiguous, and events go only with their session. */
  readonly events: AsmEvent[];
  readonly runIds: Set<string>;
}

/**
 * A `SessionStore` held in process memory, for tests and short-lived programs; everything is
 * lost on exit. Values are copied with `structuredClone` on the way in and out, so callers
 * never share objects with the stored state. Long-polls wake on appends without polling.
 */
export class MemorySessionStore implements SessionStore {
  readonly specificationVersion = SESSION_STORE_SPECIFICATION;
  readonly #sessions = new Map<string, SessionEntry>();
  readonly #runs = new Map<string, Run>();
  /** Every stored event by id: ids are unique across sessions. */
  readonly #events = new Map<string, AsmEvent>();
  readonly #notifier = new AppendNotifier();
  #closed = false;

  async saveSession(session: Session): Promise<void> {
    this.#assertOpen();
    validateSession(session);
    const copy = cloneIn(session);
    const entry = this.#sessions.get(copy.id);
    checkSessionSave(copy, entry?.session.status);
    if (entry === undefined) this.#sessions.set(copy.id, { session: copy, events: [], runIds: new Set() });
    else entry.session = copy;
  }

  async getSession(sessionId: string): Promise<Session> {
    return structuredClone(this.#entry(sessionId).session);
  }

  async listSessions(query?: SessionListQuery): Promise<Session[]> {
    this.#assertOpen();
    const { status, agentId, limit } = normalizeSessionListQuery(query);
    const matching = [...this.#sessions.values()]
      .map(({ session }) => session)
      .filter(
        (session) =>
          (status === undefined || session.status === status) &&
          (agentId === undefined || session.agentId === agentId),
      )
      // Reversed before a stable sort: among equal createdAt, the latest inserted comes first.
      .reverse()
      .sort((a, b) => compareStrings(b.createdAt, a.createdAt));
    return matching.slice(0, limit).map((session) => structuredClone(session));
  }

  async deleteSession(sessionId: string): Promise<void> {
    this.#assertOpen();
    const entry = this.#sessions.get(sessionId);
    if (entry === undefined) return;
    for (const runId of entry.runIds) this.#runs.delete(runId);
    for (const event of entry.events) this.#events.delete(event.id);
    this.#sessions.delete(sessionId);
    // Parked readers re-read and learn the session is gone.
    this.#notifier.notify(sessionId);
  }

  async saveRun(run: Run, options: SaveRunOptions = {}): Promise<AsmEvent[]> {
    this.#assertOpen();
    validateRun(run, options);
    const copy = cloneIn(run);
    const drafts = normalizeEventDrafts(options.events ?? []).map(cloneIn);
    // Everything that can fail runs before the first mutation: the run and its events are
    // stored together or not at all.
    const stored = this.#runs.get(run.id);
    checkRunSave(copy, stored?.status, options.expectedStatus);
    const entry = this.#entry(run.sessionId);
    const events = this.#prepareAppend(drafts).commit();
    if (stored !== undefined && stored.sessionId !== copy.sessionId) {
      this.#sessions.get(stored.sessionId)?.runIds.delete(copy.id);
    }
    this.#runs.set(copy.id, copy);
    entry.runIds.add(copy.id);
    return events;
  }

  async getRun(runId: string): Promise<Run> {
    this.#assertOpen();
    const run = this.#runs.get(runId);
    if (run === undefined) throw runNotFound(runId);
    return structuredClone(run);
  }

  async listRuns(sessionId: string, query?: RunListQuery): Promise<Run[]> {
    this.#assertOpen();
    const { status, limit } = normalizeRunListQuery(query);
    const runs: Run[] = [];
    for (const runId of this.#sessions.get(sessionId)?.runIds ?? []) {
      const run = this.#runs.get(runId);
      if (run !== undefined && (status === undefined || run.status === status)) runs.push(run);
    }
    runs.sort((a, b) => compareStrings(a.createdAt, b.createdAt));
    return runs.slice(0, limit).map((run) => structuredClone(run));
  }

  async appendEvent(event: EventDraft): Promise<AsmEvent> {
    return soleEvent(await this.appendEvents([event]));
  }

  async appendEvents(events: readonly EventDraft[]): Promise<AsmEvent[]> {
    this.#assertOpen();
    return this.#prepareAppend(normalizeEventDrafts(events).map(cloneIn)).commit();
  }

  async getEvents(sessionId: string, query?: EventQuery): Promise<AsmEvent[]> {
    this.#assertOpen();
    const normalized = normalizeEventQuery(query);
    return longPoll({
      notifier: this.#notifier,
      sessionId,
      waitTimeoutMs: normalized.waitTimeoutMs,
      signal: normalized.signal,
      read: () => this.#readEvents(sessionId, normalized),
    });
  }

  async getLatestSequence(sessionId: string): Promise<number> {
    return this.#entry(sessionId).events.length;
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#notifier.close();
    this.#sessions.clear();
    this.#runs.clear();
    this.#events.clear();
  }

  /**
   * Checks and sequences normalized, copied drafts without touching the store; `commit` then
   * stores them and answers copies. Nothing may be awaited in between, or another append could
   * claim the same sequences.
   */
  #prepareAppend(drafts: readonly EventDraft[]): { commit(): AsmEvent[] } {
    const stored = new Map<string, AsmEvent>();
    for (const { id } of drafts) {
      const event = this.#events.get(id);
      if (event !== undefined) stored.set(id, event);
    }
    const { inserted, results } = sequenceAppend(drafts, stored, (sessionId, count) => {
      const entry = this.#sessions.get(sessionId);
      if (entry === undefined) throw sessionNotFound(sessionId);
      return entry.events.length + count;
    });
    return {
      commit: () => {
        for (const event of inserted) {
          this.#entry(event.sessionId).events.push(event);
          this.#events.set(event.id, event);
        }
        this.#notifier.notifyAppended(inserted);
        return results.map((event) => structuredClone(event));
      },
    };
  }

  #readEvents(sessionId: string, query: NormalizedEventQuery): AsmEvent[] {
    const events = this.#sessions.get(sessionId)?.events ?? [];
    // Sequences are positions: the window (after, before) is an index range.
    const end = query.before === undefined ? events.length : Math.min(events.length, query.before - 1);
    const page: AsmEvent[] = [];
    for (let index = query.after; index < end && page.length < query.limit; index++) {
      const event = events[index];
      if (event !== undefined && matchesEventFilters(event, query)) page.push(structuredClone(event));
    }
    if (page.length === 0)
      checkEmptyPage(sessionId, query.after, this.#sessions.get(sessionId)?.events.length);
    return page;
  }

  #entry(sessionId: string): SessionEntry {
    this.#assertOpen();
    const entry = this.#sessions.get(sessionId);
    if (entry === undefined) throw sessionNotFound(sessionId);
    return entry;
  }

  #assertOpen(): void {
    if (this.#closed) throw storeClosed("memory");
  }
}

function cloneIn<T>(value: T): T {
  try {
    return structuredClone(value);
  } catch (error) {
    // Functions, symbols and the like cannot be stored (nor would they survive a real database).
    throw validationError(
      `value cannot be stored: ${error instanceof Error ? error.message : String(error)}`,
      {},
    );
  }
}

function compareStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

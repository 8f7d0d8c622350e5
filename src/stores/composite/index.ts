import { AsmError } from "../../core/errors.js";
import type { AsmEvent, EventDraft } from "../../core/events.js";
import type { Run } from "../../core/run.js";
import type { Session } from "../../core/session.js";
import type {
  ARTIFACT_STORE_SPECIFICATION,
  ArtifactInfo,
  ArtifactStore,
  PutArtifactOptions,
} from "../../ports/artifact-store.js";
import type {
  EventQuery,
  RunListQuery,
  SaveRunOptions,
  SessionListQuery,
  SessionStore,
} from "../../ports/session-store.js";
import { SESSION_STORE_SPECIFICATION } from "../../ports/session-store.js";
import { storeClosed } from "../shared/errors.js";

/** The two stores a composite joins. It owns both from then on: its `close()` closes them. */
export interface CompositeStoreParts<S extends SessionStore, A extends ArtifactStore> {
  /** Sessions, runs and events go here. */
  sessions: S;
  /** Artifact bodies go here. */
  artifacts: A;
}

/** Optional interfaces of the session store that the composite passes through as they are. */
const PASSED_THROUGH = ["query", "maintenance"] as const;

/** The `query` and `maintenance` properties of `S`, when it has them. */
export type SessionStoreExtras<S> = Pick<S, Extract<keyof S, (typeof PASSED_THROUGH)[number]>>;

/**
 * One object that is both a `SessionStore` and an `ArtifactStore`, for code that wants a single
 * store: sessions, runs and events go to `sessions` (e.g. SQLite), artifact bodies to
 * `artifacts` (e.g. S3). The session store's `query` and `maintenance`, when it has them, are
 * available on the composite too.
 *
 * Nothing is atomic across the two: a run saved with an artifact key in its events may point at
 * an artifact whose put failed. Every failure is an AsmError; anything else a part throws
 * becomes `storage_error`. After `close()`, every method rejects with `storage_error` (closed).
 */
export class CompositeStore<S extends SessionStore = SessionStore, A extends ArtifactStore = ArtifactStore>
  implements SessionStore, ArtifactStore
{
  // Both ports are at "v1"; when one moves on, a composite must say which it implements of each.
  readonly specificationVersion = SESSION_STORE_SPECIFICATION satisfies typeof ARTIFACT_STORE_SPECIFICATION;
  readonly sessions: S;
  readonly artifacts: A;
  #closing: Promise<void> | undefined;

  constructor(parts: CompositeStoreParts<S, A>) {
    if (parts?.sessions === undefined || parts.artifacts === undefined) {
      throw new AsmError("validation_error", "a composite store needs both sessions and artifacts", {
        details: { field: parts?.sessions === undefined ? "sessions" : "artifacts" },
      });
    }
    this.sessions = parts.sessions;
    this.artifacts = parts.artifacts;
    for (const name of PASSED_THROUGH) {
      if (name in parts.sessions) {
        // A getter, not a copy: a store that replaces its query object later is still followed.
        Object.defineProperty(this, name, { get: () => Reflect.get(parts.sessions, name), enumerable: true });
      }
    }
  }

  saveSession(session: Session): Promise<void> {
    return this.#call(() => this.sessions.saveSession(session));
  }

  getSession(sessionId: string): Promise<Session> {
    return this.#call(() => this.sessions.getSession(sessionId));
  }

  listSessions(query?: SessionListQuery): Promise<Session[]> {
    return this.#call(() => this.sessions.listSessions(query));
  }

  deleteSession(sessionId: string): Promise<void> {
    return this.#call(() => this.sessions.deleteSession(sessionId));
  }

  saveRun(run: Run, options?: SaveRunOptions): Promise<AsmEvent[]> {
    return this.#call(() => this.sessions.saveRun(run, options));
  }

  getRun(runId: string): Promise<Run> {
    return this.#call(() => this.sessions.getRun(runId));
  }

  listRuns(sessionId: string, query?: RunListQuery): Promise<Run[]> {
    return this.#call(() => this.sessions.listRuns(sessionId, query));
  }

  appendEvent(event: EventDraft): Promise<AsmEvent> {
    return this.#call(() => this.sessions.appendEvent(event));
  }

  appendEvents(events: readonly EventDraft[]): Promise<AsmEvent[]> {
    return this.#call(() => this.sessions.appendEvents(events));
  }

  getEvents(sessionId: string, query?: EventQuery): Promise<AsmEvent[]> {
    return this.#call(() => this.sessions.getEvents(sessionId, query));
  }

  getLatestSequence(sessionId: string): Promise<number> {
    return this.#call(() => this.sessions.getLatestSequence(sessionId));
  }

  put(key: string, body: Uint8Array | string, options?: PutArtifactOptions): Promise<ArtifactInfo> {
    return this.#call(() => this.artifacts.put(key, body, options));
  }

  get(key: string): Promise<Uint8Array> {
    return this.#call(() => this.artifacts.get(key));
  }

  head(key: string): Promise<ArtifactInfo | null> {
    return this.#call(() => this.artifacts.head(key));
  }

  delete(key: string): Promise<void> {
    return this.#call(() => this.artifacts.delete(key));
  }

  /**
   * Closes both stores, the session store first, each once; both are closed even if one fails,
   * and then the first failure is thrown. Idempotent. Pending long-polls wake with `[]`.
   */
  close(): Promise<void> {
    this.#closing ??= this.#closeBoth();
    return this.#closing;
  }

  async #closeBoth(): Promise<void> {
    let failure: unknown;
    try {
      await this.sessions.close();
    } catch (error) {
      failure = error;
    }
    try {
      await this.artifacts.close?.();
    } catch (error) {
      failure ??= error;
    }
    if (failure !== undefined) throw AsmError.from(failure, "storage_error");
  }

  async #call<T>(operation: () => Promise<T>): Promise<T> {
    if (this.#closing !== undefined) {
      throw storeClosed("composite");
    }
    try {
      return await operation();
    } catch (error) {
      throw AsmError.from(error, "storage_error");
    }
  }
}

/**
 * Joins a session store and an artifact store into one `CompositeStore`, typed with the session
 * store's `query` and `maintenance` when it has them.
 */
export function createCompositeStore<S extends SessionStore, A extends ArtifactStore>(
  parts: CompositeStoreParts<S, A>,
): CompositeStore<S, A> & SessionStoreExtras<S> {
  // The constructor defined the pass-through properties; this only tells the type system.
  return new CompositeStore(parts) as CompositeStore<S, A> & SessionStoreExtras<S>;
}

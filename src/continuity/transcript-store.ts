import { MAX_EVENT_PAGE, type SessionStore } from "../ports/session-store.js";
import {
  type Transcript,
  TranscriptFolder,
  type TranscriptOptions,
  truncateTranscript,
} from "./transcript.js";

/**
 * A session's transcript kept up to date from the store: each `update()` reads only the events
 * stored after the last one it folded (its cursor) and folds them into what it already has, so
 * following a long session costs what is new, not the whole log again. The log is append-only
 * and sequenced, so this gives the same transcript as `buildTranscript` over all the events —
 * unless events were deleted since (retention, pruning): those stay in this transcript.
 */
export class SessionTranscript {
  readonly #folder: TranscriptFolder;

  constructor(
    private readonly store: SessionStore,
    readonly sessionId: string,
    private readonly options: TranscriptOptions = {},
  ) {
    this.#folder = new TranscriptFolder(options);
  }

  /** The highest sequence folded in so far (0 before the first update). */
  get cursor(): number {
    return this.#folder.cursor;
  }

  /**
   * Folds the events stored since the cursor and returns the transcript cut to the limits
   * (`limits` override the constructor's for this call).
   */
  async update(
    limits: Omit<TranscriptOptions, "excludeRunId" | "maxToolOutputChars"> = {},
  ): Promise<Transcript> {
    for (;;) {
      const page = await this.store.getEvents(this.sessionId, {
        after: this.#folder.cursor,
        limit: MAX_EVENT_PAGE,
      });
      for (const event of page) this.#folder.add(event);
      if (page.length < MAX_EVENT_PAGE) break;
    }
    return {
      ...truncateTranscript(this.#folder.messages, { ...this.options, ...limits }),
      cursor: this.#folder.cursor,
    };
  }
}

/** A session's transcript read from the store in one go; see `SessionTranscript`. */
export function transcriptFromStore(
  store: SessionStore,
  sessionId: string,
  options: TranscriptOptions = {},
): Promise<Transcript> {
  return new SessionTranscript(store, sessionId, options).update();
}

import { hostname } from "node:os";
import { z } from "zod";
import { AsmError } from "../core/errors.js";
import type { AsmEvent } from "../core/events.js";
import { createRedactor } from "../core/redaction.js";
import type { RunInput } from "../core/run.js";
import { ONE_SHOT_OWNER_KEY } from "../core/session.js";
import { parseWith } from "../core/validation.js";
import { buildEventDraft } from "../manager/event-builder.js";
import type { RunHandle } from "../manager/run-handle.js";
import { failureData } from "../manager/run-outcome.js";
import type { RunOnceOptions, RunResult } from "../manager/session-manager.js";
import type { ProviderAdapter } from "../ports/provider-adapter.js";
import type { SessionStore } from "../ports/session-store.js";
import { SessionManager, type SessionManagerOptions } from "../session-manager.js";
import { MemorySessionStore } from "../stores/memory/index.js";
import { isRecord } from "../utils/is-record.js";

/** What a stream session's run is given: the options of `runOnce` but the agent id. */
export type StreamSessionRunOptions = Omit<RunOnceOptions, "agentId">;

export interface StreamSessionOptions {
  /** The provider that runs the input. Used as is: the stream session never closes it. */
  adapter: ProviderAdapter;
  /** What the run is given: a prompt, or messages. */
  input: RunInput | string;
  /**
   * Where the session, the run and its events are stored. Default: a new `MemorySessionStore`,
   * which the stream session owns and closes when it is closed; a store given here is left open.
   */
  store?: SessionStore;
  /** The session's agent id. Default: the adapter's name. */
  agentId?: string;
  /**
   * End the stream when the run has produced no event for this long: the run is cancelled and
   * the stream ends with an `error_occurred` (`timeout`, "stream idle timeout after N ms").
   * A positive number of ms, or `Infinity` for none. Default `120_000`.
   */
  idleTimeoutMs?: number;
  /** The run's options (policies, `timeoutMs`, `signal`, `onEvent`, session tags…). Default: none. */
  runOptions?: StreamSessionRunOptions;
  /** Options of the `SessionManager` the stream session builds (redaction, extensions, pricing…). */
  managerOptions?: Omit<SessionManagerOptions, "store" | "adapter">;
}

/** Default idle timeout of a stream session (the seed's `stream_idle_timeout_ms`). */
export const DEFAULT_STREAM_IDLE_TIMEOUT_MS = 120_000;

/**
 * One run in a session of its own, as a stream of its events: iterate it with `for await`, then
 * read `result`. See `streamSession`.
 */
export interface StreamSession extends AsyncIterable<AsmEvent> {
  readonly sessionId: string;
  readonly runId: string;
  /**
   * The run's stored events, first (`message_sent`) to terminal, as they are written. A run that
   * does not complete — it failed, was cancelled or timed out, the stream went idle, or its
   * events could not be read — ends the stream with exactly one more event: an `error_occurred`
   * (`fatal: true`, the error's code and message, `details.runId`) logged in the session (when
   * the store cannot take it, the event is still delivered, with `sequence` 0 and
   * `metadata.unstored: true`). Closing the stream ends it without one. It may be iterated
   * once; leaving the loop early (break, return, throw) closes the stream session.
   */
  [Symbol.asyncIterator](): AsyncIterator<AsmEvent>;
  /**
   * Resolves with the run's result when it completes; rejects with its `AsmError` otherwise
   * (`timeout` for an idle stream, `cancelled` after `close()` mid-run).
   */
  readonly result: Promise<RunResult>;
  /**
   * Cancels the run if it is still going, ends the session (completed, failed or cancelled as
   * the run ended), ends the stream, and closes the store if the stream session created it —
   * nothing it was given. Idempotent: every call returns the same promise. Called by itself
   * when the stream has been iterated to its end or left early.
   */
  close(): Promise<void>;
}

const optionsSchema = z.strictObject({
  adapter: z.custom<ProviderAdapter>(isRecord, "a ProviderAdapter is required"),
  input: z.union([z.string(), z.custom<RunInput>(isRecord)], "an input (a prompt or messages) is required"),
  store: z.custom<SessionStore>(isRecord, "expected a SessionStore").optional(),
  agentId: z.string().min(1).optional(),
  idleTimeoutMs: z.union([z.number().positive(), z.literal(Number.POSITIVE_INFINITY)]).optional(),
  runOptions: z.custom<StreamSessionRunOptions>(isRecord, "expected an object").optional(),
  managerOptions: z
    .custom<Omit<SessionManagerOptions, "store" | "adapter">>(isRecord, "expected an object")
    .optional(),
});

/**
 * The seed's StreamSession: one call runs `input` on `adapter` in a new session and returns the
 * run's events as an async iterable, its result, and `close()`.
 *
 * ```ts
 * const stream = await streamSession({ adapter, input: "Hello!" });
 * for await (const event of stream) if (event.type === "message_streamed") process.stdout.write(event.data.delta);
 * const result = await stream.result;
 * ```
 *
 * Built on `SessionManager.streamRun`: the session is created and activated, the run started,
 * and the session completed (or failed, or cancelled) when the run ends, as `runOnce` does.
 * Invalid options reject with `validation_error`; a session or run that cannot be created rejects
 * with its error, after releasing what was created.
 */
export async function streamSession(options: StreamSessionOptions): Promise<StreamSession> {
  const opts = parseWith(optionsSchema, options, "streamSession options");
  const ownsStore = opts.store === undefined;
  const store = opts.store ?? new MemorySessionStore();
  try {
    const manager = new SessionManager({ ...opts.managerOptions, store, adapter: opts.adapter });
    const { sessionMetadata, context, tags, ...runOptions } = opts.runOptions ?? {};
    const session = await manager.startSession({
      agentId: opts.agentId ?? opts.adapter.name,
      // Only this process can end the session: if it dies, store recovery fails the session.
      metadata: { ...sessionMetadata, [ONE_SHOT_OWNER_KEY]: { hostname: hostname(), pid: process.pid } },
      ...(context ? { context } : {}),
      ...(tags ? { tags } : {}),
    });
    let handle: RunHandle<RunResult>;
    try {
      await manager.activateSession(session.id);
      handle = await manager.streamRun(session.id, opts.input, runOptions);
    } catch (error) {
      await manager.failSession(session.id, error).catch(() => undefined);
      throw error;
    }
    return new RunStream(manager, handle, {
      idleTimeoutMs: opts.idleTimeoutMs ?? DEFAULT_STREAM_IDLE_TIMEOUT_MS,
      ownedStore: ownsStore ? store : undefined,
      redaction: opts.managerOptions?.redaction,
    });
  } catch (error) {
    if (ownsStore) await store.close();
    throw error;
  }
}

const IDLE = Symbol("idle");

interface RunStreamSettings {
  idleTimeoutMs: number;
  ownedStore: SessionStore | undefined;
  redaction: SessionManagerOptions["redaction"];
}

/** How the run ended for the stream: its result, or the error the stream ends with. */
type Ending = { result: RunResult; failure?: undefined } | { failure: AsmError };

class RunStream implements StreamSession {
  readonly sessionId: string;
  readonly runId: string;
  readonly result: Promise<RunResult>;
  readonly #manager: SessionManager;
  readonly #handle: RunHandle<RunResult>;
  readonly #settings: RunStreamSettings;
  /** Events read from the log and not yet taken by the consumer. */
  readonly #buffer: AsmEvent[] = [];
  #wake: (() => void) | undefined;
  /** No more events will be buffered. */
  #ended = false;
  #closing: Promise<void> | undefined;
  #iterated = false;
  readonly #driven: Promise<Ending>;

  constructor(manager: SessionManager, handle: RunHandle<RunResult>, settings: RunStreamSettings) {
    this.#manager = manager;
    this.#handle = handle;
    this.#settings = settings;
    this.sessionId = handle.sessionId;
    this.runId = handle.runId;
    this.#driven = this.#drive();
    this.result = this.#driven.then((ending) => {
      if (ending.failure) throw ending.failure;
      return ending.result;
    });
    // A caller may only iterate the events: a failed run must not become an unhandled rejection.
    this.result.catch(() => undefined);
  }

  [Symbol.asyncIterator](): AsyncIterator<AsmEvent> {
    if (this.#iterated) {
      throw new AsmError("invalid_operation", "a stream session's events can be iterated once", {
        details: { sessionId: this.sessionId, runId: this.runId },
      });
    }
    this.#iterated = true;
    return this.#events();
  }

  close(): Promise<void> {
    this.#closing ??= this.#close();
    return this.#closing;
  }

  async #close(): Promise<void> {
    this.#end();
    await this.#handle.cancel("stream closed").catch(() => undefined);
    await this.#driven;
    await this.#settings.ownedStore?.close();
  }

  async *#events(): AsyncGenerator<AsmEvent> {
    try {
      for (;;) {
        const event = this.#buffer.shift();
        if (event) {
          yield event;
          continue;
        }
        if (this.#ended) return;
        await new Promise<void>((resolve) => {
          this.#wake = resolve;
        });
      }
    } finally {
      await this.close();
    }
  }

  #push(event: AsmEvent): void {
    if (this.#closing) return; // closed: the consumer has gone
    this.#buffer.push(event);
    this.#wakeConsumer();
  }

  #end(): void {
    this.#ended = true;
    this.#wakeConsumer();
  }

  #wakeConsumer(): void {
    const wake = this.#wake;
    this.#wake = undefined;
    wake?.();
  }

  /** Reads the run's events into the buffer, watching for idleness, and ends the stream and session. */
  async #drive(): Promise<Ending> {
    let failure: AsmError | undefined;
    const iterator = this.#handle.events[Symbol.asyncIterator]();
    let pending: Promise<IteratorResult<AsmEvent>> | undefined;
    try {
      for (;;) {
        pending ??= iterator.next();
        const next = failure ? await pending : await this.#withinIdle(pending);
        if (next === IDLE) {
          const { idleTimeoutMs } = this.#settings;
          failure = new AsmError("timeout", `stream idle timeout after ${idleTimeoutMs} ms`, {
            details: { idleTimeoutMs, sessionId: this.sessionId, runId: this.runId },
          });
          // The run's remaining events (its run_cancelled) are still read, without the idle bound.
          this.#handle.cancel(failure.message).catch(() => undefined);
          continue;
        }
        pending = undefined;
        if (next.done) break;
        this.#push(next.value);
      }
    } catch (error) {
      failure ??= AsmError.from(error, "storage_read_failed");
      await this.#handle.cancel("the stream could not read the run's events").catch(() => undefined);
    }
    const ending: Ending = await this.#handle.result.then(
      (result): Ending => (failure ? { failure } : { result }),
      (error: unknown): Ending => ({ failure: failure ?? AsmError.from(error) }),
    );
    await this.#endSession(ending.failure);
    if (ending.failure && !this.#closing) this.#push(await this.#errorEvent(ending.failure));
    this.#end();
    return ending;
  }

  /** `pending`, or `IDLE` when it takes longer than the idle timeout. */
  async #withinIdle<T>(pending: Promise<T>): Promise<T | typeof IDLE> {
    const { idleTimeoutMs } = this.#settings;
    if (idleTimeoutMs === Number.POSITIVE_INFINITY) return pending;
    let timer: NodeJS.Timeout | undefined;
    try {
      return await Promise.race([
        pending,
        new Promise<typeof IDLE>((resolve) => {
          timer = setTimeout(() => resolve(IDLE), idleTimeoutMs);
        }),
      ]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** Completes, cancels or fails the session as its run ended; a store that is gone changes nothing. */
  async #endSession(failure: AsmError | undefined): Promise<void> {
    const manager = this.#manager;
    const ending = !failure
      ? manager.completeSession(this.sessionId)
      : failure.code === "cancelled"
        ? manager.cancelSession(this.sessionId, failure.message)
        : manager.failSession(this.sessionId, failure);
    await ending.catch(() => undefined);
  }

  /** The one `error_occurred` that ends a stream whose run did not complete, logged in the session. */
  async #errorEvent(failure: AsmError): Promise<AsmEvent> {
    const draft = buildEventDraft(
      {
        type: "error_occurred",
        data: { ...failureData(failure), fatal: true, details: { ...failure.details, runId: this.runId } },
      },
      { sessionId: this.sessionId, provider: this.#manager.adapter.name },
      "manager",
      createRedactor(this.#settings.redaction),
    );
    try {
      return await this.#manager.store.appendEvent(draft);
    } catch (error) {
      const storeError = AsmError.from(error, "storage_write_failed").message;
      return {
        ...draft,
        sequence: 0,
        metadata: { ...draft.metadata, unstored: true, storeError },
      } as AsmEvent;
    }
  }
}

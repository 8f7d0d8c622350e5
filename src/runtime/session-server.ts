import { z } from "zod";
import { AsmError } from "../core/errors.js";
import { isTerminalRunStatus, type Run, type RunInput } from "../core/run.js";
import type { JsonObject, Session } from "../core/session.js";
import { parseWith } from "../core/validation.js";
import type {
  ExecuteRunOptions,
  RunResult,
  SessionManagerBase,
  StartRunOptions,
  StartSessionInput,
} from "../manager/session-manager.js";
import { streamSessionEvents } from "../manager/stream-events.js";
import type { SessionStore } from "../ports/session-store.js";
import { ConcurrencyLimiter } from "./concurrency-limiter.js";
import {
  type IterableSubscription,
  SessionSubscriptions,
  type SubscribeOptions,
  type Subscription,
  type SubscriptionListener,
} from "./session-subscriptions.js";
import { storedRunResult } from "./stored-result.js";

/** A run's start and execute options together, as `SessionServer.submitRun` takes them. */
export type SubmitRunOptions = StartRunOptions & ExecuteRunOptions;

export interface SessionServerOptions {
  /** Executes the runs (its store, adapter and extensions). */
  manager: SessionManagerBase;
  /**
   * Serve this existing session: it is activated (a pending one started, a paused one resumed),
   * and the runs queued for it before — by a server of an earlier process — are queued again in
   * their order. Give this or `session`.
   */
  sessionId?: string;
  /** Create a new session with these attributes and activate it. Give this or `sessionId`. */
  session?: StartSessionInput;
  /** Runs executing at once: a positive integer. Default 1 (one run after the other). */
  maxConcurrentRuns?: number;
  /**
   * Runs waiting for a slot: a non-negative integer. A submit is refused (`max_runs_exceeded`)
   * only when the queue holds this many and every slot is busy. Default 100.
   */
  maxQueuedRuns?: number;
  /**
   * Limits shared with other servers: the server holds a session slot while open (failing to
   * start with `max_sessions_exceeded` when none is free) and each run a run slot while it
   * executes (waiting for one, in FIFO order). Default: no shared limits.
   */
  limiter?: ConcurrencyLimiter;
  /**
   * Options of every run, under each run's own: a run's options override these key by key, except
   * `metadata` and `providerOptions` (per provider namespace), which are merged. Default: none.
   */
  defaultRunOptions?: SubmitRunOptions;
  /**
   * Live events a subscriber may have waiting before it drops them and reads the log again from
   * its cursor (so a slow subscriber costs memory up to this bound, never a stalled run). Default 1000.
   */
  subscriberBufferSize?: number;
}

export interface AwaitRunOptions {
  /**
   * How long to wait: a positive number of ms, after which the wait (not the run) ends with
   * `timeout`, or `Infinity`. Default 60000.
   */
  timeoutMs?: number;
}

export interface DrainOptions {
  /** How long to wait for the queue and the slots to empty: a positive number of ms, or `Infinity`. Default 60000. */
  timeoutMs?: number;
}

export interface SessionServerStatus {
  sessionId: string;
  /** `open`; `closed` once `close` was called. */
  state: "open" | "closed";
  /** Runs holding a slot (executing, or waiting for the limiter's run slot), in start order. */
  inFlightRuns: string[];
  inFlightCount: number;
  /** Runs waiting for a slot, first to start first. */
  queuedRuns: string[];
  queuedCount: number;
  maxConcurrentRuns: number;
  maxQueuedRuns: number;
  subscribers: number;
}

/**
 * Where a queued run is kept in its stored metadata (`run.metadata.serverQueue`): its place in the
 * session's queue, when it was submitted, and the JSON part of its execute options. A run stored
 * `pending` with this entry is waiting in a `SessionServer`'s queue; a server started on the
 * session later (after a restart) queues such runs again, by `position`.
 */
export const SERVER_QUEUE_KEY = "serverQueue";

/** The execute options kept with a queued run, so it runs the same after a restart. */
interface StoredQueueEntry {
  position: number;
  submittedAt: string;
  options?: { timeoutMs?: number; providerOptions?: Record<string, JsonObject> };
}

const storedQueueEntrySchema = z.object({
  position: z.number().int().nonnegative(),
  submittedAt: z.string(),
  options: z
    .object({
      timeoutMs: z.number().int().nonnegative().optional(),
      providerOptions: z.record(z.string(), z.record(z.string(), z.unknown())).optional(),
    })
    .optional(),
});

const serverOptionsSchema = z
  .strictObject({
    manager: z.custom<SessionManagerBase>(
      (value) =>
        typeof value === "object" &&
        value !== null &&
        typeof (value as { executeRun?: unknown }).executeRun === "function",
      { message: "a SessionManager is required" },
    ),
    sessionId: z.string().min(1).optional(),
    session: z.custom<StartSessionInput>((value) => typeof value === "object" && value !== null).optional(),
    maxConcurrentRuns: z.number().int().positive().optional(),
    maxQueuedRuns: z.number().int().nonnegative().optional(),
    limiter: z.instanceof(ConcurrencyLimiter).optional(),
    defaultRunOptions: z
      .custom<SubmitRunOptions>((value) => typeof value === "object" && value !== null)
      .optional(),
    subscriberBufferSize: z.number().int().positive().optional(),
  })
  .refine((options) => (options.sessionId === undefined) !== (options.session === undefined), {
    message: "give exactly one of sessionId (an existing session) and session (a new one)",
  });

const waitSchema = z.strictObject({
  timeoutMs: z.union([z.number().int().positive(), z.literal(Number.POSITIVE_INFINITY)]).optional(),
});

const DEFAULT_WAIT_MS = 60_000;

/** A run the server holds: queued, or in a slot. */
interface ServerRun {
  runId: string;
  options: ExecuteRunOptions;
  /** Settles with the run's result or its AsmError; never left unsettled. */
  readonly settled: Promise<RunResult>;
  resolve(result: RunResult): void;
  reject(error: AsmError): void;
  /** Stops a wait for the limiter's run slot. */
  readonly stop: AbortController;
  /** Handed to the manager: from then on the run is executing, not queued. */
  started?: boolean;
  /** Set once `cancelRun` / `interruptRun` asked for this run: its stored end. */
  ending?: Promise<Run>;
}

/**
 * One session's run server: runs are submitted (each gets its id at once, stored `pending`),
 * queued in FIFO order, and executed `maxConcurrentRuns` at a time by the manager; callers await,
 * cancel or interrupt them by id, and subscribe to the session's log (backfill, then live).
 *
 * The queue is durable: a queued run is a `pending` run whose metadata says its place
 * (`SERVER_QUEUE_KEY`), so a server started on the session after a restart runs them in order.
 * A run that was executing when its process died is left `running` by it; the store's recovery
 * on open (`recover`, on by default) fails it with `internal_error` and a `run_failed` event
 * naming the dead process. `close` itself leaves queued runs pending for the next server and
 * cancels the runs in flight. Servers on the same session in several processes share its stored
 * queue: each run is executed by exactly one of them (the store's compare-and-set on its status),
 * the others follow it in the log and give their awaiters its result.
 */
export class SessionServer {
  readonly sessionId: string;
  readonly maxConcurrentRuns: number;
  readonly maxQueuedRuns: number;
  readonly #manager: SessionManagerBase;
  readonly #limiter: ConcurrencyLimiter | undefined;
  readonly #defaults: SubmitRunOptions;
  readonly #subscriptions: SessionSubscriptions;
  readonly #queue: ServerRun[] = [];
  readonly #inFlight = new Map<string, ServerRun>();
  /** Submits being stored, in call order: the queue takes them in that order. */
  #submitting: Promise<unknown> = Promise.resolve();
  #submitCount = 0;
  #nextPosition: number;
  #closed = false;
  #drainers = new Set<() => void>();
  #idleListeners = new Set<(idle: boolean) => void>();

  private constructor(
    options: Required<
      Pick<SessionServerOptions, "maxConcurrentRuns" | "maxQueuedRuns" | "subscriberBufferSize">
    > &
      SessionServerOptions & { sessionId: string; nextPosition: number },
  ) {
    this.sessionId = options.sessionId;
    this.maxConcurrentRuns = options.maxConcurrentRuns;
    this.maxQueuedRuns = options.maxQueuedRuns;
    this.#manager = options.manager;
    this.#limiter = options.limiter;
    this.#defaults = options.defaultRunOptions ?? {};
    this.#nextPosition = options.nextPosition;
    this.#subscriptions = new SessionSubscriptions(
      options.manager.store,
      options.sessionId,
      options.subscriberBufferSize,
    );
  }

  /**
   * Starts a server for a new session (`session`) or an existing one (`sessionId`), activating it
   * and queuing again the runs an earlier server left queued. Invalid options are
   * `validation_error`; a session that has ended is `invalid_status`; a full limiter is
   * `max_sessions_exceeded`.
   */
  static async start(options: SessionServerOptions): Promise<SessionServer> {
    const opts = parseWith(serverOptionsSchema, options, "SessionServer options");
    const { manager, limiter } = opts;
    const session = opts.session
      ? await manager.startSession(opts.session)
      : await manager.store.getSession(opts.sessionId ?? "");
    try {
      await limiter?.acquireSession(session.id);
    } catch (error) {
      // A session created for this server only: it must not stay pending, unserved.
      if (opts.session)
        await manager.cancelSession(session.id, "no session slot free").catch(() => undefined);
      throw error;
    }
    try {
      await activate(manager, session);
      const queued = await queuedRuns(manager.store, session.id);
      const server = new SessionServer({
        ...opts,
        sessionId: session.id,
        maxConcurrentRuns: opts.maxConcurrentRuns ?? 1,
        maxQueuedRuns: opts.maxQueuedRuns ?? 100,
        subscriberBufferSize: opts.subscriberBufferSize ?? 1000,
        nextPosition: (queued.at(-1)?.entry.position ?? 0) + 1,
      });
      for (const { run, entry } of queued) {
        server.#enqueue(run.id, executeOptionsOf(server.#mergeOptions(entry.options ?? {})));
      }
      server.#pump();
      return server;
    } catch (error) {
      limiter?.releaseSession(session.id);
      throw error;
    }
  }

  /** The store the server's manager writes to. */
  get store(): SessionStore {
    return this.#manager.store;
  }

  get closed(): boolean {
    return this.#closed;
  }

  /**
   * Stores the run `pending` at the end of the queue and resolves with its id, without waiting
   * for it to start. Refused with `max_runs_exceeded` when the queue is full and every slot busy,
   * `invalid_operation` once the server is closed, and as `startRun` refuses (bad input,
   * missing capabilities). The options are merged over `defaultRunOptions`.
   */
  async submitRun(input: RunInput | string, options: SubmitRunOptions = {}): Promise<string> {
    this.#assertOpen("submit a run");
    const waiting = this.#queue.length + this.#submitCount;
    if (waiting >= this.maxQueuedRuns && this.#inFlight.size >= this.maxConcurrentRuns) {
      throw new AsmError(
        "max_runs_exceeded",
        `session ${this.sessionId} has ${waiting} runs queued and all ${this.maxConcurrentRuns} slots busy`,
        {
          details: {
            sessionId: this.sessionId,
            maxQueuedRuns: this.maxQueuedRuns,
            maxConcurrentRuns: this.maxConcurrentRuns,
          },
          hint: "await or cancel some runs, or raise maxQueuedRuns",
        },
      );
    }
    const merged = this.#mergeOptions(options);
    const { requiredCapabilities, optionalCapabilities, metadata } = merged;
    const executeOptions = executeOptionsOf(merged);
    const entry: StoredQueueEntry = {
      position: this.#nextPosition,
      submittedAt: new Date().toISOString(),
      ...durableOptions(executeOptions),
    };
    this.#nextPosition += 1;
    this.#submitCount += 1;
    // Stored one after the other, so the queue's order is the call order.
    const stored = this.#submitting.then(() =>
      this.#manager.startRun(this.sessionId, input, {
        ...(requiredCapabilities ? { requiredCapabilities } : {}),
        ...(optionalCapabilities ? { optionalCapabilities } : {}),
        metadata: { ...metadata, [SERVER_QUEUE_KEY]: { ...entry } },
      }),
    );
    this.#submitting = stored.catch(() => undefined);
    try {
      const run = await stored;
      if (this.#closed) return run.id; // stays queued in the store, for the next server
      this.#enqueue(run.id, executeOptions);
      this.#pump();
      return run.id;
    } finally {
      this.#submitCount -= 1;
    }
  }

  /**
   * The run's result once it ends: resolves when it completes, rejects with its `AsmError`
   * otherwise (`cancelled` when cancelled). A run that already ended is read from the store; a run
   * of the session that another process executes is followed in the log. An id that is not a
   * run of this session is `run_not_found`; a wait longer than `timeoutMs` is `timeout` (the run
   * goes on).
   */
  async awaitRun(runId: string, options: AwaitRunOptions = {}): Promise<RunResult> {
    const { timeoutMs = DEFAULT_WAIT_MS } = parseWith(waitSchema, options ?? {}, "awaitRun options");
    const held = this.#held(runId);
    if (held) return withTimeout(held.settled, timeoutMs, () => waitTimedOut("run", runId, timeoutMs));
    const run = await this.#sessionRun(runId);
    if (isTerminalRunStatus(run.status)) return storedRunResult(this.store, run);
    const stop = new AbortController();
    try {
      return await withTimeout(this.#followRun(runId, stop.signal), timeoutMs, () =>
        waitTimedOut("run", runId, timeoutMs),
      );
    } finally {
      stop.abort();
    }
  }

  /**
   * `submitRun`, then `awaitRun` with `awaitOptions` — whose `timeoutMs` (default 60000) bounds the
   * wait, not the run: give a longer one, or `Infinity`, for long runs (`timeoutMs` among the run's
   * options ends the run itself with `timeout`).
   */
  async executeRun(
    input: RunInput | string,
    options: SubmitRunOptions = {},
    awaitOptions: AwaitRunOptions = {},
  ): Promise<RunResult> {
    return this.awaitRun(await this.submitRun(input, options), awaitOptions);
  }

  /**
   * Cancels a run of the session: a queued one leaves the queue and is stored `cancelled` with its
   * `run_cancelled` event; one in flight is stopped and ends `cancelled`; awaiters reject with
   * `cancelled`. A run that already ended is left as it is. Resolves with the run as stored;
   * an id that is not a run of this session is `run_not_found`.
   */
  cancelRun(runId: string, reason = "cancelled by caller"): Promise<Run> {
    return this.#end(runId, (id) => this.#manager.cancelRun(id, reason));
  }

  /**
   * Interrupts a run (`SessionManager.interruptRun`: the provider's native interrupt when it has
   * one, keeping its session resumable, else a cancel); a queued run is cancelled. Either way it
   * ends `cancelled` with `interrupted: true`. Same cases as `cancelRun`.
   */
  interruptRun(runId: string, reason = "interrupted by caller"): Promise<Run> {
    return this.#end(runId, (id) => this.#manager.interruptRun(id, reason));
  }

  /** Subscribes a listener to the session's log; see `SubscribeOptions`. */
  subscribe(listener: SubscriptionListener, options?: SubscribeOptions): Promise<Subscription>;
  /** Subscribes to the session's log, to be iterated; see `SubscribeOptions`. */
  subscribe(options?: SubscribeOptions): Promise<IterableSubscription>;
  async subscribe(
    listenerOrOptions?: SubscriptionListener | SubscribeOptions,
    options: SubscribeOptions = {},
  ): Promise<IterableSubscription> {
    this.#assertOpen("subscribe");
    const subscription =
      typeof listenerOrOptions === "function"
        ? await this.#subscriptions.subscribe(listenerOrOptions, options)
        : await this.#subscriptions.subscribe(undefined, listenerOrOptions ?? {});
    this.#notifyIdle();
    void subscription.ended.then(() => this.#notifyIdle());
    return subscription;
  }

  status(): SessionServerStatus {
    return {
      sessionId: this.sessionId,
      state: this.#closed ? "closed" : "open",
      inFlightRuns: [...this.#inFlight.keys()],
      inFlightCount: this.#inFlight.size,
      queuedRuns: this.#queue.map((held) => held.runId),
      queuedCount: this.#queue.length,
      maxConcurrentRuns: this.maxConcurrentRuns,
      maxQueuedRuns: this.maxQueuedRuns,
      subscribers: this.#subscriptions.count,
    };
  }

  /** No run queued, being submitted or in flight, and no subscriber. */
  get idle(): boolean {
    return (
      this.#queue.length === 0 &&
      this.#inFlight.size === 0 &&
      this.#submitCount === 0 &&
      this.#subscriptions.count === 0
    );
  }

  /**
   * Calls `listener(idle)` whenever the server may have become idle or busy (see `idle`); returns
   * the function that stops it. A registry closes idle servers this way.
   */
  onIdleChange(listener: (idle: boolean) => void): () => void {
    this.#idleListeners.add(listener);
    return () => this.#idleListeners.delete(listener);
  }

  /**
   * Resolves once no run is queued or in flight; rejects with `timeout` after `timeoutMs` (the
   * runs go on). Runs submitted meanwhile are waited for too.
   */
  async drain(options: DrainOptions = {}): Promise<void> {
    const { timeoutMs = DEFAULT_WAIT_MS } = parseWith(waitSchema, options ?? {}, "drain options");
    if (this.#drained()) return;
    let done!: () => void;
    const drained = new Promise<void>((resolve) => {
      done = resolve;
    });
    this.#drainers.add(done);
    try {
      await withTimeout(drained, timeoutMs, () => waitTimedOut("drain", this.sessionId, timeoutMs));
    } finally {
      this.#drainers.delete(done);
    }
  }

  /**
   * Closes the server: no more submits or subscriptions (`invalid_operation`), subscriptions end
   * (`closed`), queued runs stay `pending` in the store for the next server on the session (their
   * awaiters here reject with `invalid_operation`), runs in flight are cancelled, and the
   * limiter's session slot is released once they ended. Idempotent.
   */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#subscriptions.close();
    for (const held of this.#queue.splice(0)) held.reject(serverClosed(this.sessionId, held.runId));
    await this.#submitting;
    await Promise.all(
      [...this.#inFlight.values()].map(async (held) => {
        // A run still waiting for the limiter's slot goes back to the stored queue.
        held.stop.abort();
        if (held.started) {
          await this.#manager.cancelRun(held.runId, "session server closed").catch(() => undefined);
        }
        await held.settled.catch(() => undefined);
      }),
    );
    this.#limiter?.releaseSession(this.sessionId);
    this.#notifyIdle();
  }

  #assertOpen(what: string): void {
    if (this.#closed) {
      throw new AsmError(
        "invalid_operation",
        `cannot ${what}: the session server of ${this.sessionId} is closed`,
        {
          details: { sessionId: this.sessionId, state: "closed" },
          hint: "start a new SessionServer on the session",
        },
      );
    }
  }

  #mergeOptions(options: SubmitRunOptions): SubmitRunOptions {
    const defaults = this.#defaults;
    const providerNames = new Set([
      ...Object.keys(defaults.providerOptions ?? {}),
      ...Object.keys(options.providerOptions ?? {}),
    ]);
    const providerOptions = Object.fromEntries(
      [...providerNames].map((name) => [
        name,
        { ...defaults.providerOptions?.[name], ...options.providerOptions?.[name] },
      ]),
    );
    const metadata = { ...defaults.metadata, ...options.metadata };
    return {
      ...defaults,
      ...options,
      ...(providerNames.size > 0 ? { providerOptions } : {}),
      ...(Object.keys(metadata).length > 0 ? { metadata } : {}),
    };
  }

  #enqueue(runId: string, options: ExecuteRunOptions): void {
    let resolve!: (result: RunResult) => void;
    let reject!: (error: AsmError) => void;
    const settled = new Promise<RunResult>((res, rej) => {
      resolve = res;
      reject = rej;
    });
    // Nobody may await a run: its failure must not be an unhandled rejection.
    settled.catch(() => undefined);
    this.#queue.push({ runId, options, settled, resolve, reject, stop: new AbortController() });
    this.#notifyIdle();
    const { signal } = options;
    if (signal) {
      // The manager watches the signal once the run executes; while it waits, the server does.
      const onAbort = () => void this.cancelRun(runId, "signal aborted").catch(() => undefined);
      if (signal.aborted) onAbort();
      else signal.addEventListener("abort", onAbort, { once: true });
      const forget = () => signal.removeEventListener("abort", onAbort);
      settled.then(forget, forget);
    }
  }

  #pump(): void {
    while (!this.#closed && this.#inFlight.size < this.maxConcurrentRuns) {
      const held = this.#queue.shift();
      if (!held) break;
      this.#inFlight.set(held.runId, held);
      void this.#execute(held);
    }
  }

  async #execute(held: ServerRun): Promise<void> {
    let slot = false;
    try {
      if (this.#limiter) {
        await this.#limiter.acquireRun(held.runId, { wait: true, signal: held.stop.signal });
        slot = true;
      }
      if (held.stop.signal.aborted)
        throw new AsmError("cancelled", `run ${held.runId} was stopped before it started`);
      held.started = true;
      held.resolve(await this.#manager.executeRun(held.runId, held.options));
    } catch (error) {
      const failure = AsmError.from(error);
      if (
        !held.ending &&
        AsmError.is(failure, "invalid_transition") &&
        (await this.#runningElsewhere(held.runId))
      ) {
        // Another server on the session (another process) started it first: its slot here stays
        // taken while the run is followed in the log to its end, which its awaiters get.
        held.started = false;
        await this.#followRun(held.runId, held.stop.signal).then(held.resolve, async (caught: unknown) =>
          held.reject(await this.#failureOf(held, AsmError.from(caught))),
        );
      } else {
        held.reject(await this.#failureOf(held, failure));
      }
    } finally {
      if (slot) this.#limiter?.releaseRun(held.runId);
      this.#inFlight.delete(held.runId);
      this.#pump();
      if (this.#drained()) for (const done of this.#drainers) done();
      this.#notifyIdle();
    }
  }

  /**
   * What awaiters of a run that did not complete get. A cancel or interrupt asked here wins; a
   * closing server leaves an unstarted run queued in the store; a run that another writer ended
   * before it started reports that end; a run refused before it started (its options) is
   * cancelled in the store, so no later server retries it, and reports the refusal.
   */
  async #failureOf(held: ServerRun, error: AsmError): Promise<AsmError> {
    if (held.ending)
      return endedError(this.store, await held.ending.catch(() => this.store.getRun(held.runId)));
    let stored: Run;
    try {
      stored = await this.store.getRun(held.runId);
    } catch {
      return error;
    }
    if (stored.status === "pending") {
      if (this.#closed) return serverClosed(this.sessionId, held.runId);
      await this.#manager
        .cancelRun(held.runId, `not started: [${error.code}] ${error.message}`)
        .catch(() => undefined);
      return error;
    }
    if (AsmError.is(error, "invalid_transition") && isTerminalRunStatus(stored.status)) {
      return endedError(this.store, stored);
    }
    return error;
  }

  /** Whether the run is stored `running`: executing somewhere else than here. */
  async #runningElsewhere(runId: string): Promise<boolean> {
    return (await this.store.getRun(runId).catch(() => undefined))?.status === "running";
  }

  /** The run's result, once its terminal event is in the log (wherever it executes). */
  async #followRun(runId: string, signal: AbortSignal): Promise<RunResult> {
    for await (const _terminal of streamSessionEvents(this.store, this.sessionId, {
      runId,
      types: ["run_completed", "run_failed", "run_cancelled", "run_timeout"],
      follow: true,
      signal,
    })) {
      return storedRunResult(this.store, await this.store.getRun(runId));
    }
    throw new AsmError(
      "invalid_operation",
      `stopped waiting for run ${runId}; it goes on where it executes`,
      {
        details: { runId, sessionId: this.sessionId },
      },
    );
  }

  /** Cancels or interrupts a run of the session with `stop`, wherever it is. */
  async #end(runId: string, stop: (runId: string) => Promise<Run>): Promise<Run> {
    const queuedAt = this.#queue.findIndex((held) => held.runId === runId);
    if (queuedAt >= 0) {
      const [held] = this.#queue.splice(queuedAt, 1);
      const ended = stop(runId);
      if (held) {
        held.ending = ended;
        void ended.then(
          async (run) => held.reject(await endedError(this.store, run)),
          (error: unknown) => held.reject(AsmError.from(error)),
        );
      }
      this.#notifyIdle();
      if (this.#drained()) for (const done of this.#drainers) done();
      return ended;
    }
    const inFlight = this.#inFlight.get(runId);
    if (inFlight) {
      inFlight.ending ??= stop(runId);
      inFlight.stop.abort();
      return inFlight.ending;
    }
    const run = await this.#sessionRun(runId);
    return isTerminalRunStatus(run.status) ? run : stop(runId);
  }

  #held(runId: string): ServerRun | undefined {
    return this.#inFlight.get(runId) ?? this.#queue.find((held) => held.runId === runId);
  }

  /** The stored run, when it belongs to this session; else `run_not_found`. */
  async #sessionRun(runId: string): Promise<Run> {
    const run = await this.store.getRun(runId);
    if (run.sessionId !== this.sessionId) {
      throw new AsmError("run_not_found", `run ${runId} is not a run of session ${this.sessionId}`, {
        details: { runId, sessionId: this.sessionId },
      });
    }
    return run;
  }

  #drained(): boolean {
    return this.#queue.length === 0 && this.#inFlight.size === 0 && this.#submitCount === 0;
  }

  #notifyIdle(): void {
    const { idle } = this;
    for (const listener of this.#idleListeners) listener(idle);
  }
}

/** Makes the session active: a pending one started, a paused one resumed; an ended one refused. */
async function activate(manager: SessionManagerBase, session: Session): Promise<void> {
  switch (session.status) {
    case "pending":
      await manager.activateSession(session.id);
      return;
    case "paused":
      await manager.resumeSession(session.id);
      return;
    case "active":
      return;
    default:
      throw new AsmError(
        "invalid_status",
        `session ${session.id} is ${session.status}: it cannot serve runs`,
        {
          details: { sessionId: session.id, status: session.status },
        },
      );
  }
}

/**
 * The session's runs waiting in a server's queue — stored `pending` with a `SERVER_QUEUE_KEY`
 * entry — in queue order (the first 1000 pending runs of the session are looked at).
 */
export async function listQueuedRuns(store: SessionStore, sessionId: string): Promise<Run[]> {
  return (await queuedRuns(store, sessionId)).map(({ run }) => run);
}

/** The session's runs left queued by a server, in queue order, with their entries. */
async function queuedRuns(
  store: SessionStore,
  sessionId: string,
): Promise<{ run: Run; entry: StoredQueueEntry }[]> {
  const pending = await store.listRuns(sessionId, { status: "pending", limit: 1000 });
  return pending
    .flatMap((run) => {
      const parsed = storedQueueEntrySchema.safeParse(run.metadata[SERVER_QUEUE_KEY]);
      return parsed.success ? [{ run, entry: parsed.data as StoredQueueEntry }] : [];
    })
    .sort((a, b) => a.entry.position - b.entry.position);
}

/** A run's execute options, without its start options. */
function executeOptionsOf(options: SubmitRunOptions): ExecuteRunOptions {
  const {
    requiredCapabilities: _required,
    optionalCapabilities: _optional,
    metadata: _metadata,
    ...rest
  } = options;
  return rest;
}

/** The JSON part of a run's execute options, kept with the queued run (functions and signals cannot be). */
function durableOptions(options: ExecuteRunOptions): Pick<StoredQueueEntry, "options"> {
  const kept = {
    ...(options.timeoutMs !== undefined ? { timeoutMs: options.timeoutMs } : {}),
    ...(options.providerOptions ? { providerOptions: { ...options.providerOptions } } : {}),
  };
  return Object.keys(kept).length > 0 ? { options: kept } : {};
}

/** The error of a run that ended without completing, as its awaiters get it. */
async function endedError(store: SessionStore, run: Run): Promise<AsmError> {
  if (!isTerminalRunStatus(run.status)) {
    return new AsmError("internal_error", `run ${run.id} did not end: it is ${run.status}`, {
      details: { runId: run.id, status: run.status },
    });
  }
  try {
    await storedRunResult(store, run);
  } catch (error) {
    return AsmError.from(error);
  }
  return new AsmError("invalid_operation", `run ${run.id} had already completed`, {
    details: { runId: run.id, status: run.status },
  });
}

function serverClosed(sessionId: string, runId: string): AsmError {
  return new AsmError(
    "invalid_operation",
    `the session server of ${sessionId} closed before run ${runId} started; it stays queued in the store`,
    {
      details: { sessionId, runId, status: "pending" },
      hint: "start a SessionServer on the session to run it",
    },
  );
}

function waitTimedOut(what: "run" | "drain", id: string, timeoutMs: number): AsmError {
  return new AsmError(
    "timeout",
    what === "run"
      ? `run ${id} did not end within ${timeoutMs} ms (it goes on)`
      : `session ${id} did not drain within ${timeoutMs} ms (its runs go on)`,
    { details: { [what === "run" ? "runId" : "sessionId"]: id, timeoutMs } },
  );
}

/** `promise`, or `onTimeout()` thrown after `ms` (never when `Infinity`); leaves no timer behind. */
async function withTimeout<T>(promise: Promise<T>, ms: number, onTimeout: () => AsmError): Promise<T> {
  if (ms === Number.POSITIVE_INFINITY) return promise;
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      promise,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(onTimeout()), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

import { z } from "zod";
import { AsmError, type ErrorCode } from "../core/errors.js";
import { parseWith } from "../core/validation.js";

/** Limits across every session server of a process (the seed's config keys of the same names). */
export interface ConcurrencyLimiterOptions {
  /** Sessions that may hold a slot at once: a positive integer, or `Infinity`. Default `100`. */
  maxParallelSessions?: number;
  /** Runs that may hold a slot at once: a positive integer, or `Infinity`. Default `50`. */
  maxParallelRuns?: number;
}

/** How an acquire behaves when every slot is taken. */
export interface AcquireOptions {
  /**
   * Wait, in FIFO order with the other waiters, for a slot instead of failing fast with
   * `max_sessions_exceeded` / `max_runs_exceeded`. Default: `true` when `timeoutMs` is given,
   * else `false`.
   */
  wait?: boolean;
  /**
   * Give up waiting after this long (a positive number of ms): the acquire then rejects with the
   * same code as a fail-fast one (`max_sessions_exceeded` / `max_runs_exceeded`), with
   * `details.waitedMs`. Default: no limit.
   */
  timeoutMs?: number;
  /** Aborting it gives up waiting: the acquire rejects with `cancelled`. */
  signal?: AbortSignal;
}

/** One pool's figures, as `ConcurrencyLimiter.status()` reports them. */
export interface SlotPoolStatus {
  /** Ids holding a slot. */
  active: number;
  max: number;
  /** Acquires waiting for a slot. */
  waiting: number;
}

export interface ConcurrencyLimiterStatus {
  sessions: SlotPoolStatus;
  runs: SlotPoolStatus;
}

export const CONCURRENCY_LIMITER_DEFAULTS: Readonly<Required<ConcurrencyLimiterOptions>> = Object.freeze({
  maxParallelSessions: 100,
  maxParallelRuns: 50,
});

const limitSchema = z.union([z.number().int().positive(), z.literal(Number.POSITIVE_INFINITY)]);
const limiterOptionsSchema = z.strictObject({
  maxParallelSessions: limitSchema.optional(),
  maxParallelRuns: limitSchema.optional(),
});
const acquireOptionsSchema = z
  .strictObject({
    wait: z.boolean().optional(),
    timeoutMs: z.number().positive().optional(),
    signal: z.instanceof(AbortSignal).optional(),
  })
  .refine((options) => !(options.wait === false && options.timeoutMs !== undefined), {
    message: "timeoutMs bounds a wait: it cannot be given with wait: false",
  });

/**
 * Caps how many sessions and runs may be active at once across session servers (or anything
 * else that asks it). Each slot is held by an id: acquiring an id that already holds a slot
 * succeeds at once without taking another, and releasing an id that holds none does nothing.
 *
 * When every slot is taken an acquire fails fast, or — with `wait` — queues: freed slots go to
 * the waiters in the order they asked. A waiter that gives up (timeout, abort, or a release of
 * its id) leaves the queue at once and never takes a slot later. A granted slot is held until
 * it is released, whatever happens to the caller.
 */
export class ConcurrencyLimiter {
  readonly #sessions: SlotPool;
  readonly #runs: SlotPool;

  constructor(options: ConcurrencyLimiterOptions = {}) {
    const limits = parseWith(limiterOptionsSchema, options, "ConcurrencyLimiter options");
    this.#sessions = new SlotPool(
      "session",
      "max_sessions_exceeded",
      limits.maxParallelSessions ?? CONCURRENCY_LIMITER_DEFAULTS.maxParallelSessions,
    );
    this.#runs = new SlotPool(
      "run",
      "max_runs_exceeded",
      limits.maxParallelRuns ?? CONCURRENCY_LIMITER_DEFAULTS.maxParallelRuns,
    );
  }

  /** Takes a session slot for `sessionId`; see `AcquireOptions` for what happens when none is free. */
  acquireSession(sessionId: string, options: AcquireOptions = {}): Promise<void> {
    return this.#sessions.acquire(sessionId, options);
  }

  /** Frees the slot `sessionId` holds, or withdraws its waiting acquire (which rejects `cancelled`). */
  releaseSession(sessionId: string): void {
    this.#sessions.release(sessionId);
  }

  /** Takes a run slot for `runId`; see `AcquireOptions` for what happens when none is free. */
  acquireRun(runId: string, options: AcquireOptions = {}): Promise<void> {
    return this.#runs.acquire(runId, options);
  }

  /** Frees the slot `runId` holds, or withdraws its waiting acquire (which rejects `cancelled`). */
  releaseRun(runId: string): void {
    this.#runs.release(runId);
  }

  status(): ConcurrencyLimiterStatus {
    return { sessions: this.#sessions.status(), runs: this.#runs.status() };
  }
}

interface Waiter {
  id: string;
  grant(): void;
  /** Rejects the acquire and cleans up its timer and abort listener. */
  fail(error: AsmError): void;
}

/** One kind of slot (sessions or runs): who holds one, and who waits, first come first served. */
class SlotPool {
  readonly #holders = new Set<string>();
  #waiters: Waiter[] = [];

  constructor(
    private readonly kind: "session" | "run",
    private readonly fullCode: ErrorCode,
    private readonly max: number,
  ) {}

  acquire(id: string, options: AcquireOptions): Promise<void> {
    let parsed: z.output<typeof acquireOptionsSchema>;
    try {
      if (typeof id !== "string" || id.length === 0) {
        throw new AsmError("validation_error", `a ${this.kind} slot needs a non-empty id`);
      }
      parsed = parseWith(acquireOptionsSchema, options, `${this.kind} slot acquire options`);
    } catch (error) {
      return Promise.reject(error);
    }
    if (parsed.signal?.aborted) return Promise.reject(this.#cancelled(id));
    if (this.#holders.has(id)) return Promise.resolve();
    if (this.#holders.size < this.max) {
      this.#holders.add(id);
      return Promise.resolve();
    }
    const wait = parsed.wait ?? parsed.timeoutMs !== undefined;
    if (!wait) return Promise.reject(this.#full(id));
    return this.#enqueue(id, parsed.timeoutMs, parsed.signal);
  }

  release(id: string): void {
    if (this.#holders.delete(id)) {
      this.#grantFreeSlots();
      return;
    }
    for (const waiter of this.#waiters.filter((candidate) => candidate.id === id)) {
      waiter.fail(this.#cancelled(id, "its slot was released while it waited"));
    }
  }

  status(): SlotPoolStatus {
    return { active: this.#holders.size, max: this.max, waiting: this.#waiters.length };
  }

  #enqueue(id: string, timeoutMs: number | undefined, signal: AbortSignal | undefined): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const since = performance.now();
      const leave = () => {
        this.#waiters = this.#waiters.filter((candidate) => candidate !== waiter);
        if (timer) clearTimeout(timer);
        signal?.removeEventListener("abort", onAbort);
      };
      const waiter: Waiter = {
        id,
        grant: () => {
          leave();
          resolve();
        },
        fail: (error) => {
          leave();
          reject(error);
        },
      };
      const onAbort = () => waiter.fail(this.#cancelled(id));
      const timer =
        timeoutMs === undefined
          ? undefined
          : setTimeout(() => {
              const waitedMs = Math.round(performance.now() - since);
              waiter.fail(this.#full(id, { waitedMs, timeoutMs }));
            }, timeoutMs);
      signal?.addEventListener("abort", onAbort, { once: true });
      this.#waiters.push(waiter);
    });
  }

  /** Hands freed slots to the waiters in arrival order; an id's later waits share its slot. */
  #grantFreeSlots(): void {
    while (this.#holders.size < this.max) {
      const first = this.#waiters[0];
      if (!first) return;
      this.#holders.add(first.id);
      for (const waiter of this.#waiters.filter((candidate) => candidate.id === first.id)) waiter.grant();
    }
  }

  #full(id: string, waited: { waitedMs: number; timeoutMs: number } | undefined = undefined): AsmError {
    const what = `${this.kind}s`;
    const message = waited
      ? `no ${this.kind} slot freed within ${waited.timeoutMs} ms: ${this.max} ${what} already active`
      : `${this.max} ${what} already active (the limit); ${this.kind} ${id} was refused`;
    return new AsmError(this.fullCode, message, {
      details: { [`${this.kind}Id`]: id, limit: this.max, active: this.#holders.size, ...waited },
      hint: waited
        ? "retry later, or raise the limit"
        : "retry later, wait for a slot ({ wait: true }), or raise the limit",
    });
  }

  #cancelled(id: string, why = "its signal was aborted"): AsmError {
    return new AsmError("cancelled", `the wait for a ${this.kind} slot for ${id} was given up: ${why}`, {
      details: { [`${this.kind}Id`]: id },
    });
  }
}

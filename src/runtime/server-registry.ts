import { z } from "zod";
import { AsmError } from "../core/errors.js";
import { parseWith } from "../core/validation.js";
import type { SessionManagerBase, StartSessionInput } from "../manager/session-manager.js";
import { SessionServer, type SessionServerOptions } from "./session-server.js";

export interface SessionServerRegistryOptions {
  /** Executes the runs of every server. */
  manager: SessionManagerBase;
  /** Options of every server the registry starts. Default: the servers' defaults. */
  serverOptions?: Omit<SessionServerOptions, "manager" | "sessionId" | "session">;
  /**
   * Close a server that stayed idle — no run queued or in flight, no subscriber — this long (ms):
   * a positive number, or `Infinity` to keep servers until `closeAll`. The next `get` starts a new
   * one. Default 300000 (5 minutes).
   */
  idleTimeoutMs?: number;
}

const registryOptionsSchema = z.strictObject({
  manager: z.custom<SessionManagerBase>(
    (value) =>
      typeof value === "object" &&
      value !== null &&
      typeof (value as { executeRun?: unknown }).executeRun === "function",
    { message: "a SessionManager is required" },
  ),
  serverOptions: z
    .custom<NonNullable<SessionServerRegistryOptions["serverOptions"]>>(
      (value) => typeof value === "object" && value !== null,
    )
    .optional(),
  idleTimeoutMs: z.union([z.number().positive(), z.literal(Number.POSITIVE_INFINITY)]).optional(),
});

interface Entry {
  server: Promise<SessionServer>;
  timer?: NodeJS.Timeout;
  stopWatching?: () => void;
}

/**
 * The session servers of a process, one per session (the seed's supervisor and registry):
 * `get(sessionId)` returns the session's server, starting one (which activates the session and
 * takes up its stored queue) when there is none; idle servers are closed after `idleTimeoutMs`;
 * `closeAll` closes every server on shutdown.
 */
export class SessionServerRegistry {
  readonly #manager: SessionManagerBase;
  readonly #serverOptions: NonNullable<SessionServerRegistryOptions["serverOptions"]>;
  readonly #idleTimeoutMs: number;
  readonly #entries = new Map<string, Entry>();
  readonly #started = new Map<string, SessionServer>();
  #closed = false;

  constructor(options: SessionServerRegistryOptions) {
    const opts = parseWith(registryOptionsSchema, options, "SessionServerRegistry options");
    this.#manager = opts.manager;
    this.#serverOptions = opts.serverOptions ?? {};
    this.#idleTimeoutMs = opts.idleTimeoutMs ?? 300_000;
  }

  /** The session's server, started on the existing session when it has none (see `SessionServer.start`). */
  async get(sessionId: string): Promise<SessionServer> {
    this.#assertOpen();
    const known = this.#entries.get(sessionId);
    const started = this.#started.get(sessionId);
    if (known && !started?.closed) return known.server;
    return this.#register(sessionId, () =>
      SessionServer.start({ ...this.#serverOptions, manager: this.#manager, sessionId }),
    );
  }

  /** Starts a server on a new session with these attributes. */
  async create(session: StartSessionInput): Promise<SessionServer> {
    this.#assertOpen();
    const server = await SessionServer.start({ ...this.#serverOptions, manager: this.#manager, session });
    await this.#register(server.sessionId, async () => server);
    return server;
  }

  /** The session's open server, if this registry has one; never starts one. */
  lookup(sessionId: string): SessionServer | undefined {
    const server = this.#started.get(sessionId);
    return server && !server.closed ? server : undefined;
  }

  /** The sessions that have an open server. */
  sessionIds(): string[] {
    return [...this.#started.entries()].filter(([, server]) => !server.closed).map(([id]) => id);
  }

  /** Closes every server (see `SessionServer.close`) and refuses further `get`s. Idempotent. */
  async closeAll(): Promise<void> {
    this.#closed = true;
    const entries = [...this.#entries.entries()];
    for (const [sessionId] of entries) this.#forget(sessionId);
    await Promise.all(
      entries.map(async ([, entry]) => {
        const server = await entry.server.catch(() => undefined);
        await server?.close();
      }),
    );
  }

  #assertOpen(): void {
    if (this.#closed) {
      throw new AsmError("invalid_operation", "the session server registry is closed", {
        details: { state: "closed" },
      });
    }
  }

  #register(sessionId: string, start: () => Promise<SessionServer>): Promise<SessionServer> {
    const entry: Entry = { server: start() };
    this.#forget(sessionId);
    this.#entries.set(sessionId, entry);
    entry.server.then(
      (server) => {
        if (this.#entries.get(sessionId) !== entry) return;
        this.#started.set(sessionId, server);
        entry.stopWatching = server.onIdleChange((idle) => this.#watch(sessionId, entry, server, idle));
        this.#watch(sessionId, entry, server, server.idle);
      },
      () => {
        if (this.#entries.get(sessionId) === entry) this.#entries.delete(sessionId);
      },
    );
    return entry.server;
  }

  /** Arms the idle timer while the server is idle, disarms it while busy, forgets a closed server. */
  #watch(sessionId: string, entry: Entry, server: SessionServer, idle: boolean): void {
    if (server.closed) {
      if (this.#entries.get(sessionId) === entry) this.#forget(sessionId);
      return;
    }
    clearTimeout(entry.timer);
    entry.timer = undefined;
    if (!idle || this.#idleTimeoutMs === Number.POSITIVE_INFINITY) return;
    entry.timer = setTimeout(() => {
      if (!server.idle || this.#entries.get(sessionId) !== entry) return;
      this.#forget(sessionId);
      void server.close();
    }, this.#idleTimeoutMs);
    // An idle server must not keep the process alive.
    entry.timer.unref();
  }

  #forget(sessionId: string): void {
    const entry = this.#entries.get(sessionId);
    if (!entry) return;
    clearTimeout(entry.timer);
    entry.stopWatching?.();
    this.#entries.delete(sessionId);
    this.#started.delete(sessionId);
  }
}

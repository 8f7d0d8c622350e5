import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { setTimeout as sleep } from "node:timers/promises";
import { describe, expect, it } from "vitest";
import { AsmError } from "../../core/errors.js";
import type { AsmEvent } from "../../core/events.js";
import { streamSessionEvents } from "../../manager/stream-events.js";
import { defineSessionStoreConformance } from "../../testing/index.js";
import { event, expectCode, session } from "../test-support/fixtures.js";
import { runWorker, workerArgs } from "../test-support/workers.js";
import { openPostgresStore } from "./index.js";
import { MIGRATIONS, type Migration } from "./migrations.js";
import { missingDriver } from "./pg-driver.js";
import { openPostgresStoreWithMigrations } from "./postgres-store.js";
import { adminQuery, TEST_DATABASE_URL, urlWithApplicationName } from "./test-support/database.js";
import { useTestSchemas } from "./test-support/harness.js";

const { newSchema, openIn, storeSchema, closeAndDrop } = useTestSchemas();

const workerScript = new URL("./test-support/worker.ts", import.meta.url);
let workers = 0;

defineSessionStoreConformance(
  {
    name: "PostgresSessionStore",
    // Every store gets a fresh schema: the suite expects each `open` to start empty.
    open: () => openIn(newSchema("c")),
    close: closeAndDrop,
    openPeer: (store) => openIn(storeSchema(store)),
    appendFromOtherProcess: async ({ store, sessionId, count, idPrefix }) => {
      workers += 1;
      const prefix = idPrefix ?? `worker${workers}`;
      await runWorker(workerScript, [
        "append",
        TEST_DATABASE_URL,
        storeSchema(store),
        sessionId,
        String(count),
        prefix,
      ]);
    },
  },
  { describe, it },
);

async function appliedVersions(schema: string): Promise<number[]> {
  const rows = await adminQuery<{ version: number }>(
    `SELECT version FROM "${schema}".asm_schema_migrations ORDER BY version`,
  );
  return rows.map(({ version }) => version);
}

async function tableNames(schema: string): Promise<string[]> {
  const rows = await adminQuery<{ tablename: string }>(
    "SELECT tablename FROM pg_tables WHERE schemaname = $1 ORDER BY tablename",
    [schema],
  );
  return rows.map(({ tablename }) => tablename);
}

describe("PostgresSessionStore schema versions", () => {
  const latest = MIGRATIONS.length;
  const fakeNext: Migration = {
    version: latest + 1,
    description: "test-only: a later release's table",
    up: "CREATE TABLE later_feature (id TEXT PRIMARY KEY);",
  };
  const withNext = [...MIGRATIONS, fakeNext];
  const allVersions = MIGRATIONS.map(({ version }) => version);
  const open = (schema: string, migrations: readonly Migration[], autoMigrate = false) =>
    openPostgresStoreWithMigrations({ connectionString: TEST_DATABASE_URL, schema, autoMigrate }, migrations);

  /** A schema at this release's version holding one session with one event. */
  async function currentSchema(): Promise<string> {
    const schema = newSchema("current");
    const store = await openIn(schema);
    await store.saveSession(session("ses_old"));
    await store.appendEvent(event("ses_old", "evt_old"));
    await store.close();
    return schema;
  }

  it("creates a missing schema and initializes it silently at the latest version", async () => {
    const schema = newSchema("fresh");
    await (await openIn(schema)).close();
    expect(await tableNames(schema)).toEqual(["asm_schema_migrations", "events", "runs", "sessions"]);
    expect(await appliedVersions(schema)).toEqual(allVersions);
    const rows = await adminQuery<{ description: string; applied_at: Date }>(
      `SELECT description, applied_at FROM "${schema}".asm_schema_migrations ORDER BY version`,
    );
    expect(rows.map(({ description }) => description)).toEqual(
      MIGRATIONS.map(({ description }) => description),
    );
    expect(rows[0]?.applied_at).toBeInstanceOf(Date);
  });

  it("initializes an existing empty schema", async () => {
    const schema = newSchema("empty");
    await adminQuery(`CREATE SCHEMA "${schema}"`);
    await (await openIn(schema)).close();
    expect(await appliedVersions(schema)).toEqual(allVersions);
  });

  it("uses PostgreSQL types under the SQLite store's table and column names", async () => {
    const schema = newSchema("types");
    await (await openIn(schema)).close();
    const columns = await adminQuery<{ table_name: string; column_name: string; data_type: string }>(
      `SELECT table_name, column_name, data_type FROM information_schema.columns
       WHERE table_schema = $1 AND table_name IN ('sessions', 'runs', 'events')`,
      [schema],
    );
    const typeOf = (table: string, column: string) =>
      columns.find((row) => row.table_name === table && row.column_name === column)?.data_type;
    expect(typeOf("sessions", "metadata")).toBe("jsonb");
    expect(typeOf("sessions", "created_at")).toBe("timestamp with time zone");
    expect(typeOf("sessions", "last_sequence")).toBe("bigint");
    expect(typeOf("sessions", "pruned_events")).toBe("bigint");
    expect(typeOf("runs", "cost_usd")).toBe("double precision");
    expect(typeOf("runs", "owner")).toBe("jsonb");
    expect(typeOf("events", "sequence")).toBe("bigint");
    expect(typeOf("events", "timestamp")).toBe("timestamp with time zone");
    expect(typeOf("events", "data")).toBe("jsonb");
  });

  it("refuses an older schema with migration_required and leaves it untouched", async () => {
    const schema = await currentSchema();
    const error = await expectCode(open(schema, withNext), "migration_required");
    expect(error.details).toMatchObject({
      schema,
      currentVersion: latest,
      targetVersion: latest + 1,
      direction: "upgrade",
    });
    expect(error.hint).toContain("autoMigrate");
    expect(await appliedVersions(schema)).toEqual(allVersions);
    expect(await tableNames(schema)).not.toContain("later_feature");
  });

  it("migrates an older schema with autoMigrate, keeping the data", async () => {
    const schema = await currentSchema();
    const store = await open(schema, withNext, true);
    try {
      expect(await appliedVersions(schema)).toEqual([...allVersions, latest + 1]);
      expect(await tableNames(schema)).toContain("later_feature");
      expect(await store.getSession("ses_old")).toEqual(session("ses_old"));
      expect((await store.appendEvent(event("ses_old", "evt_new"))).sequence).toBe(2);
    } finally {
      await store.close();
    }
  });

  it("applies all pending migrations or none", async () => {
    const schema = await currentSchema();
    const failing: Migration = {
      version: latest + 1,
      description: "test-only: fails halfway",
      up: "CREATE TABLE half_done (id TEXT); CREATE TABLE sessions (id TEXT);",
    };
    await expectCode(open(schema, [...MIGRATIONS, failing], true), "storage_error");
    expect(await appliedVersions(schema)).toEqual(allVersions);
    expect(await tableNames(schema)).not.toContain("half_done");
  });

  it("refuses a newer schema as a downgrade, even with autoMigrate", async () => {
    const schema = await currentSchema();
    await (await open(schema, withNext, true)).close();
    const error = await expectCode(openIn(schema, { autoMigrate: true }), "migration_required");
    expect(error.details).toMatchObject({
      currentVersion: latest + 1,
      targetVersion: latest,
      direction: "downgrade",
    });
    expect(error.hint).toMatch(/upgrade/i);
    expect(await appliedVersions(schema)).toEqual([...allVersions, latest + 1]);
  });

  it("treats an unversioned schema that has tables as one needing migration", async () => {
    const schema = newSchema("foreign");
    await adminQuery(`CREATE SCHEMA "${schema}"; CREATE TABLE "${schema}".someone_elses (id INTEGER)`);
    const error = await expectCode(openIn(schema), "migration_required");
    expect(error.details).toMatchObject({ currentVersion: 0, direction: "upgrade" });
    await (await openIn(schema, { autoMigrate: true })).close();
    expect(await tableNames(schema)).toEqual([
      "asm_schema_migrations",
      "events",
      "runs",
      "sessions",
      "someone_elses",
    ]);
  });

  it("migrates a fresh schema exactly once when processes open it at the same moment", async () => {
    const schema = newSchema("race");
    const processes = Array.from({ length: 3 }, () =>
      startWorker(["open", TEST_DATABASE_URL, schema], { handshake: true }),
    );
    // Everyone loaded and waiting: release them together, so their opens really overlap.
    await Promise.all(processes.map(({ ready }) => ready));
    for (const { go } of processes) go();
    await Promise.all(processes.map(({ done }) => done));
    expect(await appliedVersions(schema)).toEqual(MIGRATIONS.map(({ version }) => version));
    expect(await tableNames(schema)).toEqual(["asm_schema_migrations", "events", "runs", "sessions"]);
  });

  it("migrates a fresh schema exactly once when stores in one process open it together", async () => {
    const schema = newSchema("race_local");
    const stores = await Promise.all(Array.from({ length: 4 }, () => openIn(schema, { autoMigrate: true })));
    await Promise.all(stores.map((store) => store.close()));
    expect(await appliedVersions(schema)).toEqual(MIGRATIONS.map(({ version }) => version));
  });
});

interface StartedWorker {
  /** Resolves once the worker printed "ready" (handshake mode). */
  ready: Promise<void>;
  /** Lets a handshaking worker start. */
  go(): void;
  /** Resolves when the worker exits with 0, rejects with its stderr otherwise. */
  done: Promise<void>;
}

/** Starts test-support/worker.ts; with `handshake`, it waits for `go()` before working. */
function startWorker(args: readonly string[], { handshake = false } = {}): StartedWorker {
  const child: ChildProcess = spawn(process.execPath, workerArgs(workerScript, args), {
    env: { ...process.env, ASM_WORKER_HANDSHAKE: handshake ? "1" : "0" },
    stdio: ["pipe", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  child.stderr?.on("data", (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const ready = new Promise<void>((resolve, reject) => {
    child.stdout?.on("data", (chunk: Buffer) => {
      stdout += chunk.toString();
      if (stdout.includes("ready\n")) resolve();
    });
    child.once("exit", () => reject(new Error(`worker exited before it was ready: ${stderr}`)));
  });
  // Not awaited by every caller before `done`; keep an early exit from being an unhandled rejection.
  ready.catch(() => {});
  const timeout = setTimeout(() => child.kill("SIGKILL"), 60_000);
  const done = once(child, "exit").then(([code]) => {
    clearTimeout(timeout);
    if (code !== 0) throw new Error(`worker ${args.join(" ")} exited with ${String(code)}: ${stderr}`);
  });
  return {
    ready,
    go: () => child.stdin?.end("go\n"),
    done,
  };
}

describe("PostgresSessionStore failures", () => {
  it("reports a database nobody listens on as storage_connection_failed, naming host:port, promptly", async () => {
    const started = performance.now();
    const error = await expectCode(
      openPostgresStore({
        connectionString: "postgres://postgres@127.0.0.1:1/test",
        schema: "asm_unreachable",
      }),
      "storage_connection_failed",
    );
    expect(performance.now() - started).toBeLessThan(20_000);
    expect(error.retryable).toBe(true);
    expect(error.hint).toContain("127.0.0.1:1");
    expect(error.details).toMatchObject({ host: "127.0.0.1", port: 1, database: "test" });
  });

  it("reports a missing pg module as dependency_not_available with the install command", async () => {
    const error = await expectCode(
      openPostgresStoreWithMigrations({ connectionString: TEST_DATABASE_URL }, MIGRATIONS, async () => {
        throw missingDriver(
          Object.assign(new Error("Cannot find package 'pg'"), { code: "ERR_MODULE_NOT_FOUND" }),
        );
      }),
      "dependency_not_available",
    );
    expect(error.hint).toContain("npm install pg");
  });

  it("rejects bad options with validation_error", async () => {
    await expectCode(openPostgresStore({ connectionString: "" }), "validation_error");
    await expectCode(openPostgresStore({ connectionString: "db.internal:5432" }), "validation_error");
    for (const schema of ["Upper", "has-dash", "1starts_with_digit", "", "x".repeat(64)]) {
      await expectCode(
        openPostgresStore({ connectionString: TEST_DATABASE_URL, schema }),
        "validation_error",
      );
    }
    await expectCode(
      openPostgresStore({ connectionString: TEST_DATABASE_URL, poolSize: 0 }),
      "validation_error",
    );
    await expectCode(
      openPostgresStore({ connectionString: TEST_DATABASE_URL, connectionTimeoutMs: 1.5 }),
      "validation_error",
    );
  });

  it("rejects record timestamps that are no dates, and values PostgreSQL cannot hold", async () => {
    const store = await openIn(newSchema("values"));
    try {
      await expectCode(store.saveSession(session("ses_bad", { createdAt: "yesterday" })), "validation_error");
      await store.saveSession(session("ses_ok"));
      const error = await expectCode(
        store.appendEvent(event("ses_ok", "evt_nul", { data: { delta: "a\u0000b" } })),
        "validation_error",
      );
      expect(error.hint).toContain("NUL");
      expect(await store.getLatestSequence("ses_ok")).toBe(0);
    } finally {
      await store.close();
    }
  });

  it("keeps working after its connections are terminated, and never leaks a raw pg error", async () => {
    const applicationName = `asm_test_terminated_${process.pid}`;
    const store = await openIn(newSchema("terminated"), {
      connectionString: urlWithApplicationName(applicationName),
    });
    try {
      await store.saveSession(session("ses_t"));
      await store.appendEvents([event("ses_t", "evt_1"), event("ses_t", "evt_2")]);
      await adminQuery("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1", [
        applicationName,
      ]);
      // An operation may still pick a pooled connection before the pool saw it die: that fails
      // as a retryable storage_connection_failed, and the retry gets a new connection.
      let appended: AsmEvent | undefined;
      for (let attempt = 0; attempt < 5 && appended === undefined; attempt++) {
        try {
          appended = await store.appendEvent(event("ses_t", "evt_3"));
        } catch (error) {
          expect(error).toBeInstanceOf(AsmError);
          expect((error as AsmError).code).toBe("storage_connection_failed");
          await sleep(100);
        }
      }
      expect(appended?.sequence).toBe(3);
      expect((await store.getEvents("ses_t")).map(({ id }) => id)).toEqual(["evt_1", "evt_2", "evt_3"]);
    } finally {
      await store.close();
    }
  });
});

describe("PostgresSessionStore concurrent writers", () => {
  it("two stores appending the same new id at once both get the one stored event", async () => {
    const schema = newSchema("same_id");
    const store = await openIn(schema);
    const peer = await openIn(schema);
    try {
      await store.saveSession(session("ses_race"));
      for (let round = 0; round < 20; round++) {
        const draft = event("ses_race", `evt_race_${round}`);
        const [mine, theirs] = await Promise.all([store.appendEvent(draft), peer.appendEvent(draft)]);
        expect(theirs).toEqual(mine);
        expect(mine.sequence).toBe(round + 1);
      }
      expect(await store.getLatestSequence("ses_race")).toBe(20);
    } finally {
      await peer.close();
      await store.close();
    }
  });

  it("batches spanning two sessions in opposite orders never deadlock", async () => {
    const schema = newSchema("two_sessions");
    const store = await openIn(schema);
    const peer = await openIn(schema);
    try {
      await store.saveSession(session("ses_a"));
      await store.saveSession(session("ses_b"));
      for (let round = 0; round < 20; round++) {
        await Promise.all([
          store.appendEvents([event("ses_a", `a_first_${round}`), event("ses_b", `b_second_${round}`)]),
          peer.appendEvents([event("ses_b", `b_first_${round}`), event("ses_a", `a_second_${round}`)]),
        ]);
      }
      for (const sessionId of ["ses_a", "ses_b"]) {
        const sequences = (await store.getEvents(sessionId, { limit: 1000 })).map(({ sequence }) => sequence);
        expect(sequences).toEqual(Array.from({ length: 40 }, (_, i) => i + 1));
      }
    } finally {
      await peer.close();
      await store.close();
    }
  });
});

describe("PostgresSessionStore values", () => {
  it("round-trips timestamps at millisecond precision in toISOString form", async () => {
    const store = await openIn(newSchema("times"));
    try {
      const stored = session("ses_time", {
        createdAt: "2025-03-04T05:06:07.089Z",
        updatedAt: "2025-03-04T05:06:08.001Z",
        deletedAt: "2025-03-04T05:06:09.999Z",
      });
      await store.saveSession(stored);
      expect(await store.getSession("ses_time")).toEqual(stored);
      // Other ISO 8601 forms of an instant come back in toISOString form, as event timestamps do.
      await store.saveSession({ ...stored, updatedAt: "2025-03-04T06:06:08+01:00" });
      expect((await store.getSession("ses_time")).updatedAt).toBe("2025-03-04T05:06:08.000Z");
      const appended = await store.appendEvent(
        event("ses_time", "evt_t", { timestamp: "2025-03-04T05:06:07.5Z" }),
      );
      expect(appended.timestamp).toBe("2025-03-04T05:06:07.500Z");
      expect((await store.getEvents("ses_time"))[0]?.timestamp).toBe("2025-03-04T05:06:07.500Z");
    } finally {
      await store.close();
    }
  });
});

/** The pids of a store's LISTEN connections, found by its application_name. */
async function listenerPids(applicationName: string): Promise<number[]> {
  const rows = await adminQuery<{ pid: number }>(
    "SELECT pid FROM pg_stat_activity WHERE application_name = $1 AND query ILIKE 'LISTEN%'",
    [applicationName],
  );
  return rows.map(({ pid }) => pid);
}

/** Polls `condition` (a test-side check, not the store) every 50 ms until it holds or `timeoutMs` passes. */
async function eventually(
  condition: () => Promise<boolean>,
  what: string,
  timeoutMs = 15_000,
): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!(await condition())) {
    if (performance.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

describe("PostgresSessionStore across processes", () => {
  it("four processes appending singles and batches to one session get 1..N exactly once", async () => {
    const schema = newSchema("writers");
    const store = await openIn(schema);
    try {
      await store.saveSession(session("ses_shared"));
      const perProcess = 250;
      const prefixes = ["p1", "p2", "p3", "p4"];
      const processes = prefixes.map((prefix) =>
        startWorker(
          ["append", TEST_DATABASE_URL, schema, "ses_shared", String(perProcess), prefix, "mixed"],
          {
            handshake: true,
          },
        ),
      );
      await Promise.all(processes.map(({ ready }) => ready));
      for (const { go } of processes) go();
      await Promise.all(processes.map(({ done }) => done));

      const total = prefixes.length * perProcess;
      const events: AsmEvent[] = [];
      for (let page = await store.getEvents("ses_shared", { limit: 1000 }); page.length > 0; ) {
        events.push(...page);
        page = await store.getEvents("ses_shared", { after: events.at(-1)?.sequence ?? 0, limit: 1000 });
      }
      expect(events.map(({ sequence }) => sequence)).toEqual(Array.from({ length: total }, (_, i) => i + 1));
      expect(new Set(events.map(({ id }) => id))).toEqual(
        new Set(prefixes.flatMap((prefix) => Array.from({ length: perProcess }, (_, i) => `${prefix}-${i}`))),
      );
      // Each writer's own events keep its order.
      for (const prefix of prefixes) {
        const own = events
          .filter(({ id }) => id.startsWith(`${prefix}-`))
          .map(({ id }) => Number(id.split("-")[1]));
        expect(own).toEqual(Array.from({ length: perProcess }, (_, i) => i));
      }
      expect(await store.getLatestSequence("ses_shared")).toBe(total);
    } finally {
      await store.close();
    }
  });

  it("a parked long-poll issues no queries, and wakes when another process appends", async () => {
    const schema = newSchema("follower");
    const applicationName = `asm_test_follower_${process.pid}`;
    const writer = await openIn(schema);
    const follower = await openIn(schema, { connectionString: urlWithApplicationName(applicationName) });
    try {
      await writer.saveSession(session("ses_follow"));
      const poll = follower.getEvents("ses_follow", { waitTimeoutMs: 25_000 });
      await eventually(
        async () => (await listenerPids(applicationName)).length === 1,
        "the LISTEN connection",
      );
      // Let the re-read that follows LISTEN finish, then watch the store's connections: a
      // polling store would start statements all the time.
      await sleep(300);
      const lastStatement = async (): Promise<number> => {
        const [row] = await adminQuery<{ latest: Date }>(
          "SELECT max(query_start) AS latest FROM pg_stat_activity WHERE application_name = $1",
          [applicationName],
        );
        return row?.latest.getTime() ?? 0;
      };
      const before = await lastStatement();
      await sleep(1500);
      expect(await lastStatement()).toBe(before);

      const started = performance.now();
      await runWorker(workerScript, ["append", TEST_DATABASE_URL, schema, "ses_follow", "1", "remote"]);
      const page = await poll;
      expect(page.map(({ id, sequence }) => [id, sequence])).toEqual([["remote-0", 1]]);
      expect(performance.now() - started).toBeLessThan(20_000);
    } finally {
      await follower.close();
      await writer.close();
    }
  });

  it("a follower gets every event exactly once, in order, while its LISTEN connection is killed", async () => {
    const schema = newSchema("reconnect");
    const applicationName = `asm_test_reconnect_${process.pid}`;
    const follower = await openIn(schema, { connectionString: urlWithApplicationName(applicationName) });
    const controller = new AbortController();
    try {
      await follower.saveSession(session("ses_live"));
      const total = 300;
      const received: AsmEvent[] = [];
      const following = (async () => {
        for await (const next of streamSessionEvents(follower, "ses_live", {
          follow: true,
          signal: controller.signal,
        })) {
          received.push(next);
          if (received.length === total) return;
        }
      })();
      await eventually(
        async () => (await listenerPids(applicationName)).length === 1,
        "the LISTEN connection",
      );
      const appending = runWorker(workerScript, [
        "append",
        TEST_DATABASE_URL,
        schema,
        "ses_live",
        String(total),
        "live",
        "paced",
      ]);

      // Kill the LISTEN connection twice while the other process keeps appending.
      const killed: number[] = [];
      for (const threshold of [50, 150]) {
        await eventually(async () => received.length >= threshold, `${threshold} events`, 30_000);
        const [pid] = await listenerPids(applicationName);
        if (pid === undefined) throw new Error("no LISTEN connection to kill");
        await adminQuery("SELECT pg_terminate_backend($1)", [pid]);
        killed.push(pid);
        await eventually(
          async () => (await listenerPids(applicationName)).some((next) => !killed.includes(next)),
          "a new LISTEN connection",
        );
      }
      await appending;
      // The follow loop's own long-poll waits 30 s; well before that, notifications must deliver the rest.
      await Promise.race([
        following,
        sleep(20_000).then(() => {
          throw new Error(`follower stalled at ${received.length} of ${total} events`);
        }),
      ]);
      expect(received.map(({ sequence }) => sequence)).toEqual(
        Array.from({ length: total }, (_, i) => i + 1),
      );
      expect(received.map(({ id }) => id)).toEqual(Array.from({ length: total }, (_, i) => `live-${i}`));
    } finally {
      controller.abort();
      await follower.close();
    }
  });

  it("close ends the LISTEN connection and wakes parked long-polls with []", async () => {
    const applicationName = `asm_test_close_${process.pid}`;
    const store = await openIn(newSchema("close"), {
      connectionString: urlWithApplicationName(applicationName),
    });
    await store.saveSession(session("ses_close"));
    const poll = store.getEvents("ses_close", { waitTimeoutMs: 25_000 });
    await eventually(async () => (await listenerPids(applicationName)).length === 1, "the LISTEN connection");
    await store.close();
    expect(await poll).toEqual([]);
    await eventually(
      async () =>
        (await adminQuery("SELECT 1 FROM pg_stat_activity WHERE application_name = $1", [applicationName]))
          .length === 0,
      "the store's connections to end",
    );
  });
});

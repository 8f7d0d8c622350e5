import { randomBytes } from "node:crypto";
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { AsmEvent } from "../core/events.js";
import type { Session } from "../core/session.js";
import type { HealthReport, RetentionReport } from "../ports/maintenance.js";
import type { Page, SessionExport } from "../ports/query-api.js";
import { asm, requireBuiltCli, shellRunArgs } from "./test-support/cli.js";

const PG_URL = process.env.ASM_TEST_PG_URL ?? "postgres://postgres@127.0.0.1:5432/test";

async function runSession(db: string, words: string[]): Promise<string> {
  const result = await asm(shellRunArgs(db, words));
  expect(result.code).toBe(0);
  const first = JSON.parse(result.stdout.split("\n")[0] ?? "") as AsmEvent;
  return first.sessionId;
}

let dir: string;
beforeAll(() => {
  requireBuiltCli();
  dir = mkdtempSync(join(tmpdir(), "asm-cli-store-"));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("asm on SQLite: search, export/import, maintenance", () => {
  it("searches sessions page by page with the printed cursor", async () => {
    const db = join(dir, "search.db");
    const ids = [];
    for (const word of ["one", "two", "three"]) ids.push(await runSession(db, ["echo", word]));
    await asm(["run", "--provider", "shell", "--db", db, "--", "false"]);

    const first = await asm([
      "sessions",
      "search",
      "--db",
      db,
      "--status",
      "completed",
      "--limit",
      "2",
      "--json",
    ]);
    const page1 = JSON.parse(first.stdout) as Page<Session>;
    expect(page1.items).toHaveLength(2);
    expect(page1.nextCursor).toBeDefined();
    const second = await asm([
      "sessions",
      "search",
      "--db",
      db,
      "--status",
      "completed",
      "--limit",
      "2",
      "--cursor",
      String(page1.nextCursor),
      "--json",
    ]);
    const page2 = JSON.parse(second.stdout) as Page<Session>;
    expect(page2.nextCursor).toBeUndefined();
    const found = [...page1.items, ...page2.items].map((session) => session.id);
    expect(found.sort()).toEqual([...ids].sort());

    const failed = await asm(["sessions", "search", "--db", db, "--status", "failed", "--json"]);
    expect((JSON.parse(failed.stdout) as Page<Session>).items).toHaveLength(1);

    const bad = await asm(["sessions", "search", "--db", db, "--cursor", "garbage"]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain("[invalid_cursor]");
  });

  it("--since/--until take ISO 8601 or a time ago; anything else names the flag and the forms (exit 2)", async () => {
    const db = join(dir, "since.db");
    const sessionId = await runSession(db, ["echo", "recent"]);
    const search = async (...flags: string[]) => {
      const result = await asm(["sessions", "search", "--db", db, "--json", ...flags]);
      expect(result.code, flags.join(" ")).toBe(0);
      return (JSON.parse(result.stdout) as Page<Session>).items.map((session) => session.id);
    };
    expect(await search("--since", "24h")).toEqual([sessionId]);
    expect(await search("--since", "2000-01-01", "--until", "2999-12-31T23:59:59Z")).toEqual([sessionId]);
    expect(await search("--until", "2000-01-01T00:00Z")).toEqual([]);

    const bad = await asm(["sessions", "search", "--db", db, "--since", "yesterday"]);
    expect(bad.code).toBe(2);
    const [line, hint] = bad.stderr.trim().split("\n");
    expect(line).toBe(
      "asm: error --since yesterday: expected an ISO 8601 date or date-time, or a time ago [validation_error]",
    );
    expect(hint).toBe(
      "  hint: e.g. --since 2026-01-31, --since 2026-01-31T09:00:00Z, --since 24h or --since 7d",
    );
  });

  it("exports a session and imports it into another database, ids and sequences kept", async () => {
    const from = join(dir, "from.db");
    const to = join(dir, "to.db");
    const sessionId = await runSession(from, ["echo", "portable"]);
    const file = join(dir, "session.json");
    expect((await asm(["export", sessionId, "--db", from, "--out", file])).code).toBe(0);
    const data = JSON.parse(readFileSync(file, "utf8")) as SessionExport;
    expect(data.session.id).toBe(sessionId);
    expect(data.events.map((event) => event.sequence)).toEqual(data.events.map((_, index) => index + 1));

    const imported = await asm(["import", file, "--db", to, "--json"]);
    expect(imported.code).toBe(0);
    expect(JSON.parse(imported.stdout)).toEqual({ sessionId, runs: 1, events: data.events.length });
    const events = await asm(["events", sessionId, "--db", to, "--json"]);
    const copied = events.stdout
      .trim()
      .split("\n")
      .map((line) => JSON.parse(line) as AsmEvent);
    expect(copied).toEqual(data.events);

    const again = await asm(["import", file, "--db", to]);
    expect(again.code).toBe(2);
    expect(again.stderr).toContain("[already_exists]");
    const garbage = join(dir, "garbage.json");
    await asm(["export", "ses_missing", "--db", from, "--out", garbage]).then((result) => {
      expect(result.stderr).toContain("[session_not_found]");
    });
  });

  it("import of a file that is not there or not readable: exit 2, a clear line, no database made", async () => {
    const db = join(dir, "never.db");
    const missing = join(dir, "nonexistent.json");
    const result = await asm(["import", missing, "--db", db]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(`asm: error no file at ${missing} [not_found]`);
    expect(result.stderr).toContain("hint: pass a file written by: asm export");
    const directory = await asm(["import", dir, "--db", db, "--json"]);
    expect(directory.code).toBe(2);
    expect(JSON.parse(directory.stderr)).toMatchObject({
      error: { code: "invalid_input", details: { errno: "EISDIR" } },
    });
    expect(existsSync(db)).toBe(false);
  });

  it("refuses maintenance flags that would do nothing: one line, a hint, exit 2, no database made", async () => {
    const db = join(dir, "untouched-maintenance.db");
    const cases: [string[], string][] = [
      [["--max-age", "completed"], "--max-age completed: expected <status>=<days>"],
      [["--max-age", "finished=30"], "--max-age finished=30: expected <status>=<days>"],
      [["--keep-last", "3"], "--keep-last does nothing without --prune"],
      [["--prune", "message_streamed,nonsense"], "--prune: unknown event type nonsense"],
    ];
    for (const [flags, message] of cases) {
      const result = await asm(["maintenance", "run", "--db", db, ...flags]);
      expect(result.code, flags.join(" ")).toBe(2);
      const lines = result.stderr.trim().split("\n");
      expect(lines[0]).toBe(`asm: error ${message} [validation_error]`);
      expect(lines[1]).toMatch(/^ {2}hint: e\.g\. --|^ {2}hint: add --prune/);
      expect(lines).toHaveLength(2);
    }
    expect(existsSync(db)).toBe(false);
  });

  it("reports health and applies retention", async () => {
    const db = join(dir, "maintenance.db");
    await runSession(db, ["echo", "old"]);
    const health = await asm(["maintenance", "health", "--db", db, "--json"]);
    expect(health.code).toBe(0);
    expect((JSON.parse(health.stdout) as HealthReport).ok).toBe(true);

    // Retention by age keeps a fresh session; pruning streamed output keeps the newest of it.
    const run = await asm([
      "maintenance",
      "run",
      "--db",
      db,
      "--max-age",
      "completed=30",
      "--prune",
      "message_streamed,tool_call_started",
      "--keep-last",
      "1",
      "--json",
    ]);
    expect(run.code).toBe(0);
    const report = JSON.parse(run.stdout) as RetentionReport;
    expect(report.sessionsSoftDeleted).toBe(0);
    expect(report.eventsPruned).toBe(0);
    const healthy = await asm(["maintenance", "health", "--db", db]);
    expect(healthy.stdout).toContain("healthy");
  });
});

describe("read-only commands create nothing", () => {
  const readCommands = (db: string): string[][] => [
    ["sessions", "list", "--db", db],
    ["sessions", "show", "ses_x", "--db", db],
    ["sessions", "search", "--db", db],
    ["events", "ses_x", "--db", db],
    ["export", "ses_x", "--db", db],
    ["maintenance", "health", "--db", db],
  ];

  it("a missing SQLite file: exit 2 naming the path, no file or directory made", async () => {
    const db = join(dir, "absent", "asm.db");
    for (const args of readCommands(db)) {
      const result = await asm(args);
      expect(result.code, args.join(" ")).toBe(2);
      expect(result.stderr).toContain(`no SQLite database at ${db} [not_found]`);
    }
    expect(existsSync(join(dir, "absent"))).toBe(false);
  });

  it("an empty SQLite file: exit 2, no tables created", async () => {
    const db = join(dir, "empty.db");
    writeFileSync(db, "");
    for (const args of readCommands(db)) {
      const result = await asm(args);
      expect(result.code, args.join(" ")).toBe(2);
      expect(result.stderr).toContain(`database ${db} holds no session store`);
    }
    expect(statSync(db).size).toBe(0);
  });

  it("an older schema is not migrated by a read-only command", async () => {
    const db = join(dir, "older.db");
    await runSession(db, ["echo", "v1"]);
    const raw = new Database(db);
    raw.pragma("user_version = 1");
    raw.close();
    const read = await asm(["sessions", "list", "--db", db]);
    expect(read.code).toBe(1);
    expect(read.stderr).toContain("[migration_required]");
    expect(read.stderr).toContain("hint: back the database up, then run a command that writes");
    expect(userVersion(db)).toBe(1);
  });
});

function userVersion(path: string): number {
  const db = new Database(path, { readonly: true });
  try {
    return Number(db.pragma("user_version", { simple: true }));
  } finally {
    db.close();
  }
}

describe("asm on PostgreSQL", () => {
  const schema = `asm_cli_${randomBytes(6).toString("hex")}`;
  const db = `${PG_URL}?schema=${schema}`;

  afterAll(async () => {
    const client = new pg.Client({ connectionString: PG_URL });
    await client.connect();
    await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    await client.end();
  });

  it("runs, lists and follows sessions in a postgres:// database", async () => {
    const sessionId = await runSession(db, ["echo", "from postgres"]);
    const list = await asm(["sessions", "list", "--db", db, "--json"]);
    expect(list.code).toBe(0);
    expect(list.stdout).toContain(sessionId);
    const events = await asm(["events", sessionId, "--db", db, "--json", "--after", "2"]);
    const parsed = events.stdout
      .trim()
      .split("\n")
      .map((line) => JSON.parse(line) as AsmEvent);
    expect(parsed[0]?.sequence).toBe(3);
    expect(parsed.map((event) => event.type)).toContain("run_completed");
  });

  it("a read-only command on a missing schema: exit 2 saying so, the schema not created", async () => {
    const missing = `asm_cli_missing_${randomBytes(6).toString("hex")}`;
    const result = await asm(["sessions", "list", "--db", `${PG_URL}?schema=${missing}`]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(`schema ${missing} on 127.0.0.1:5432/test holds no session store`);
    const client = new pg.Client({ connectionString: PG_URL });
    await client.connect();
    try {
      const found = await client.query("SELECT 1 FROM pg_namespace WHERE nspname = $1", [missing]);
      expect(found.rows).toEqual([]);
    } finally {
      await client.end();
    }
  });

  it("a malformed PostgreSQL URL is a validation_error, exit 2, the URL not echoed", async () => {
    for (const url of ["postgres://:::", "postgres://user:secret@host:notaport/db"]) {
      const result = await asm(["sessions", "list", "--db", url]);
      expect(result.code, url).toBe(2);
      expect(result.stderr).toContain("the PostgreSQL URL is malformed");
      expect(result.stderr).toContain("[validation_error]");
      expect(result.stderr).not.toContain("secret");
    }
  });

  it("names an unreachable server with a storage code and exits 1", async () => {
    const result = await asm(["sessions", "list", "--db", "postgres://postgres@127.0.0.1:1/test"]);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain("[storage_connection_failed]");
  });
});

import { existsSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import type { AsmError } from "../core/errors.js";
import type { SessionStore } from "../ports/session-store.js";
import { loadedModules } from "../providers/test-support/loaded-modules.js";
import { makeSession } from "../testing/fixtures.js";
import { MemorySessionStore } from "./memory/index.js";
import { openDurableStore, openStore, parseStoreTarget } from "./open-store.js";
import { adminQuery, TEST_DATABASE_URL } from "./postgres/test-support/database.js";
import { useTestSchemas } from "./postgres/test-support/harness.js";
import { event, rejection } from "./test-support/fixtures.js";

const root = mkdtempSync(path.join(tmpdir(), "asm-open-store-test-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));
const schemas = useTestSchemas();

/** The AsmError `action` throws. */
const thrown = (action: () => unknown): Promise<AsmError> => rejection(Promise.resolve().then(action));

/** A fresh, empty directory under the test's root. */
function emptyDir(label: string): string {
  return mkdtempSync(path.join(root, `${label}-`));
}

/** Runs `action` with `dir` as the working directory, where relative targets land. */
async function inDirectory<T>(dir: string, action: () => Promise<T>): Promise<T> {
  const before = process.cwd();
  process.chdir(dir);
  try {
    return await action();
  } finally {
    process.chdir(before);
  }
}

/** Saves a session, appends an event and reads it back: the store works. */
async function roundTrip(store: SessionStore): Promise<void> {
  const session = makeSession({ status: "pending" });
  await store.saveSession(session);
  const [stored] = await store.appendEvents([event(session.id, `${session.id}-e1`)]);
  expect(stored?.sequence).toBe(1);
  const events = await store.getEvents(session.id);
  expect(events.map(({ id, sequence, data }) => ({ id, sequence, data }))).toEqual([
    { id: `${session.id}-e1`, sequence: 1, data: { delta: `${session.id}-e1` } },
  ]);
}

async function openAndRoundTrip(target: string): Promise<void> {
  const store = await openStore(target);
  try {
    await roundTrip(store);
  } finally {
    await store.close();
  }
}

describe("parseStoreTarget", () => {
  it("reads SQLite paths, sqlite: URLs, PostgreSQL URLs and memory:", () => {
    expect(parseStoreTarget("asm.db")).toEqual({ kind: "sqlite", path: "asm.db" });
    expect(parseStoreTarget("./data/asm.db")).toEqual({ kind: "sqlite", path: "./data/asm.db" });
    expect(parseStoreTarget("/var/lib/asm.db")).toEqual({ kind: "sqlite", path: "/var/lib/asm.db" });
    expect(parseStoreTarget(":memory:")).toEqual({ kind: "sqlite", path: ":memory:" });
    expect(parseStoreTarget("./odd:name.db")).toEqual({ kind: "sqlite", path: "./odd:name.db" });
    expect(parseStoreTarget("C:\\asm\\asm.db")).toEqual({ kind: "sqlite", path: "C:\\asm\\asm.db" });
    expect(parseStoreTarget("sqlite:./x.db")).toEqual({ kind: "sqlite", path: "./x.db" });
    expect(parseStoreTarget("sqlite:x.db")).toEqual({ kind: "sqlite", path: "x.db" });
    expect(parseStoreTarget("sqlite:/abs/x.db")).toEqual({ kind: "sqlite", path: "/abs/x.db" });
    expect(parseStoreTarget("sqlite:///abs/x.db")).toEqual({ kind: "sqlite", path: "/abs/x.db" });
    expect(parseStoreTarget("SQLite:./x.db")).toEqual({ kind: "sqlite", path: "./x.db" });
    expect(parseStoreTarget("sqlite::memory:")).toEqual({ kind: "sqlite", path: ":memory:" });
    expect(parseStoreTarget("postgres://u:p@db.example:5432/asm?schema=team_a&sslmode=require")).toEqual({
      kind: "postgres",
      connectionString: "postgres://u:p@db.example:5432/asm?sslmode=require",
      schema: "team_a",
    });
    expect(parseStoreTarget("postgresql://db.example/asm")).toEqual({
      kind: "postgres",
      connectionString: "postgresql://db.example/asm",
    });
    expect(parseStoreTarget("memory:")).toEqual({ kind: "memory" });
  });

  it("refuses unknown schemes, naming the supported ones", async () => {
    for (const target of [
      "pg://localhost/db",
      "mysql://localhost/db",
      "http://example.com/x",
      "file:///x.db",
      "foo:bar.db",
    ]) {
      const error = await thrown(() => parseStoreTarget(target));
      expect(error.code, target).toBe("validation_error");
      expect(error.message, target).toContain(
        "supported: sqlite:, postgres://, postgresql://, memory: or a SQLite file path",
      );
      expect(error.details.supported).toEqual([
        "sqlite:",
        "postgres://",
        "postgresql://",
        "memory:",
        "a SQLite file path",
      ]);
    }
    expect((await thrown(() => parseStoreTarget("pg://localhost/db"))).details.scheme).toBe("pg:");
  });

  it("refuses malformed targets, never echoing a PostgreSQL password", async () => {
    const cases = {
      "": "a store target must be a non-empty string",
      "  ": "a store target must be a non-empty string",
      "sqlite:": "a sqlite: target needs a file path",
      "sqlite://host/x.db": "a sqlite: URL has no host",
      "sqlite:./x.db?mode=ro": "a sqlite: target takes no parameters (? or #)",
      "memory:shared": "memory: takes nothing after the colon",
      "postgres:db": "the PostgreSQL URL is malformed: it must start with postgres://",
      "postgresql:/db": "the PostgreSQL URL is malformed: it must start with postgresql://",
      "postgres://u:s3cret@[bad/db": "the PostgreSQL URL is malformed: it cannot be parsed as a URL",
      "postgres://u:s3cret@h/db?schema=a&schema=b":
        "the PostgreSQL URL is malformed: schema is given more than once",
      "postgres://u:s3cret@h/db?schema=": "the PostgreSQL URL is malformed: schema is empty",
    };
    for (const [target, message] of Object.entries(cases)) {
      const error = await thrown(() => parseStoreTarget(target));
      expect(error.code, target).toBe("validation_error");
      expect(error.message, target).toBe(message);
      expect(JSON.stringify(error.toJSON()), target).not.toContain("s3cret");
    }
  });
});

describe("openStore", () => {
  it("opens a working SQLite store from a plain path and each sqlite: form", async () => {
    const dir = emptyDir("sqlite");
    await inDirectory(dir, async () => {
      await openAndRoundTrip("plain.db");
      await openAndRoundTrip("sqlite:./nested/relative.db");
      await openAndRoundTrip(`sqlite:${path.join(dir, "absolute.db")}`);
      await openAndRoundTrip(`sqlite://${path.join(dir, "url-form.db")}`);
    });
    expect(
      readdirSync(dir)
        .filter((name) => name.endsWith(".db"))
        .sort(),
    ).toEqual(["absolute.db", "plain.db", "url-form.db"]);
    expect(existsSync(path.join(dir, "nested", "relative.db"))).toBe(true);
    // The data is on disk: a second open of the same file sees it.
    const reopened = await openDurableStore(path.join(dir, "plain.db"));
    try {
      expect((await reopened.query.searchSessions()).items).toHaveLength(1);
    } finally {
      await reopened.close();
    }
  });

  it("opens in-memory SQLite and memory: stores", async () => {
    const dir = emptyDir("memory");
    await inDirectory(dir, async () => {
      await openAndRoundTrip("sqlite::memory:");
      await openAndRoundTrip(":memory:");
      await openAndRoundTrip("memory:");
    });
    expect(await openStore("memory:")).toBeInstanceOf(MemorySessionStore);
    expect(readdirSync(dir)).toEqual([]);
  });

  it("opens a working PostgreSQL store in the URL's schema, passing the other parameters to pg", async () => {
    for (const scheme of ["postgres", "postgresql"]) {
      const schema = schemas.newSchema(`open_${scheme}`);
      const url = new URL(TEST_DATABASE_URL.replace(/^postgres(ql)?:/, `${scheme}:`));
      url.searchParams.set("schema", schema);
      url.searchParams.set("application_name", `asm_open_${schema}`);
      const store = await openDurableStore(url.toString());
      try {
        await roundTrip(store);
        const tables = await adminQuery<{ table_name: string }>(
          "SELECT table_name FROM information_schema.tables WHERE table_schema = $1 AND table_name = 'events'",
          [schema],
        );
        expect(tables, scheme).toHaveLength(1);
        const connections = await adminQuery("SELECT 1 FROM pg_stat_activity WHERE application_name = $1", [
          `asm_open_${schema}`,
        ]);
        expect(connections.length, scheme).toBeGreaterThan(0);
        expect((await store.query.searchSessions()).items).toHaveLength(1);
      } finally {
        await store.close();
      }
    }
  });

  it("refuses unknown schemes and creates nothing on disk", async () => {
    const dir = emptyDir("unknown");
    await inDirectory(dir, async () => {
      for (const target of [
        "pg://localhost/db",
        "mysql://root@localhost/asm",
        "http://example.com/asm.db",
        "pg:asm.db",
      ]) {
        const error = await rejection(openStore(target));
        expect(error.code, target).toBe("validation_error");
        expect(error.message, target).toContain("sqlite:, postgres://, postgresql://, memory:");
        expect((await rejection(openDurableStore(target))).code, target).toBe("validation_error");
      }
    });
    expect(readdirSync(dir)).toEqual([]);
  });

  it("passes store settings to the backend's opener", async () => {
    const dir = emptyDir("settings");
    const error = await rejection(openStore(path.join(dir, "x.db"), { sqlite: { busyTimeoutMs: -1 } }));
    expect(error.code).toBe("validation_error");
    expect(error.details).toMatchObject({ field: "busyTimeoutMs", value: -1 });
    const schema = await rejection(openStore(`${TEST_DATABASE_URL}?schema=Not-Valid`));
    expect(schema.code).toBe("validation_error");
  });

  it("with mustExist opens an existing SQLite file, and creates nothing for a missing one", async () => {
    const dir = emptyDir("must-exist");
    const existing = path.join(dir, "existing.db");
    await openAndRoundTrip(existing);
    const store = await openStore(existing, { mustExist: true });
    try {
      expect(await store.listSessions()).toHaveLength(1);
    } finally {
      await store.close();
    }
    const before = readdirSync(dir).sort();
    const missing = path.join(dir, "missing", "asm.db");
    for (const target of [missing, `sqlite:${missing}`]) {
      const error = await rejection(openStore(target, { mustExist: true }));
      expect(error.code, target).toBe("not_found");
      expect(error.message, target).toBe(`no SQLite database at ${missing}`);
      expect(error.details, target).toEqual({ path: missing });
    }
    expect(readdirSync(dir).sort()).toEqual(before);
    expect((await rejection(openStore("sqlite::memory:", { mustExist: true }))).code).toBe("not_found");
    expect((await rejection(openStore("memory:", { mustExist: true }))).code).toBe("not_found");
  });

  it("openDurableStore refuses memory:, which has no queries or maintenance", async () => {
    const error = await rejection(openDurableStore("memory:"));
    expect(error.code).toBe("validation_error");
    expect(error.hint).toContain("postgres://");
  });
});

describe("loading", () => {
  const drivers = (urls: string[]): string[] =>
    [
      ...new Set(urls.flatMap((url) => /node_modules\/(better-sqlite3|pg|kysely)\//.exec(url)?.[1] ?? [])),
    ].sort();

  it("loads a backend only for the scheme chosen", async () => {
    expect(drivers(await loadedModules("../../stores/open-store.ts", "open:memory:"))).toEqual([]);
    expect(drivers(await loadedModules("../../stores/open-store.ts", "open:sqlite::memory:"))).toContain(
      "better-sqlite3",
    );
  });
});

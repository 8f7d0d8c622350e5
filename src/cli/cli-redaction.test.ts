import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { plantedSecrets } from "../manager/test-support/planted-secrets.js";
import {
  asm,
  CLI,
  collect,
  jsonLines,
  type Outcome,
  requireBuiltCli,
  shellRunArgs,
} from "./test-support/cli.js";

const SECRETS = plantedSecrets("CLI");

let dir: string;
beforeAll(requireBuiltCli);
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "asm-cli-redact-"));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

/** The CLI under umask 000, the most permissive: whatever it creates, it must restrict itself. */
function asmUnderUmask000(args: string[], cwd: string): Promise<Outcome> {
  const child = spawn("/bin/sh", ["-c", 'umask 000 && exec "$0" "$@"', process.execPath, CLI, ...args], {
    cwd,
    env: { ...process.env, NO_COLOR: "1" },
    stdio: ["ignore", "pipe", "pipe"],
  });
  return collect(child);
}

/** Bytes of the database and its WAL, as text (the secrets are ASCII). */
function databaseBytes(path: string): string {
  return [path, `${path}-wal`]
    .filter((file) => existsSync(file))
    .map((file) => readFileSync(file).toString("latin1"))
    .join("\n");
}

function leaked(text: string): string[] {
  return SECRETS.filter((planted) => text.includes(planted.secret)).map((planted) => planted.kind);
}

/** `printf` of every planted secret, one per line: on stdout and in the run's argv (its input). */
const PRINT_SECRETS = ["printf", "%s\\n", ...SECRETS.map((planted) => planted.text)];

describe("asm redacts by default", () => {
  it("says so in `asm run --help`, with --no-redact to opt out", async () => {
    const help = await asm(["run", "--help"]);
    expect(help.code).toBe(0);
    // Commander wraps the description to the terminal's width.
    expect(help.stdout).toMatch(
      /--no-redact\s+store secrets as they are\s+\(default: secrets are\s+redacted/,
    );
  });

  it("stores no secret of a run's input or output, and prints none; --no-redact stores them", async () => {
    const db = join(dir, "asm.db");
    const redacted = await asm(shellRunArgs(db, PRINT_SECRETS));
    expect(redacted.stderr).toBe("");
    expect(redacted.code).toBe(0);
    expect(leaked(redacted.stdout)).toEqual([]);
    const streamed = jsonLines(redacted.stdout).filter((event) => event.type === "message_streamed");
    expect(streamed.some((event) => event.metadata.redactions !== undefined)).toBe(true);
    expect(leaked(databaseBytes(db))).toEqual([]);

    const plainDb = join(dir, "plain.db");
    const plain = await asm([
      "run",
      "--provider",
      "shell",
      "--db",
      plainDb,
      "--no-redact",
      "--",
      ...PRINT_SECRETS,
    ]);
    expect(plain.code).toBe(0);
    expect(leaked(databaseBytes(plainDb))).toEqual(SECRETS.map((planted) => planted.kind));
  });

  it("exports without secrets unless --no-redact, to a file created owner-only", async () => {
    const db = join(dir, "plain.db");
    const sessionId = await runStoringSecrets(db);

    const out = join(dir, "session.json");
    const exported = await asmUnderUmask000(["export", sessionId, "--db", db, "--out", out], dir);
    expect(exported.stderr).toBe("");
    expect(exported.code).toBe(0);
    expect((statSync(out).mode & 0o777).toString(8)).toBe("600");
    const text = readFileSync(out, "utf8");
    expect(leaked(text)).toEqual([]);
    expect(JSON.parse(text).events.length).toBeGreaterThan(3);

    const raw = await asm(["export", sessionId, "--db", db, "--no-redact"]);
    expect(leaked(raw.stdout)).toEqual(SECRETS.map((planted) => planted.kind));
  });

  it("imports without secrets unless --no-redact; a malformed file is still a validation error", async () => {
    const db = join(dir, "plain.db");
    const sessionId = await runStoringSecrets(db);
    const file = join(dir, "raw.json");
    expect((await asm(["export", sessionId, "--db", db, "--no-redact", "--out", file])).code).toBe(0);

    const redactedDb = join(dir, "imported.db");
    const imported = await asm(["import", file, "--db", redactedDb]);
    expect(imported.stderr).toBe("");
    expect(imported.code).toBe(0);
    expect(leaked(databaseBytes(redactedDb))).toEqual([]);
    const back = await asm(["export", sessionId, "--db", redactedDb, "--no-redact"]);
    expect(JSON.parse(back.stdout).events.length).toBe(JSON.parse(readFileSync(file, "utf8")).events.length);

    const plainDb = join(dir, "imported-plain.db");
    expect((await asm(["import", file, "--db", plainDb, "--no-redact"])).code).toBe(0);
    expect(leaked(databaseBytes(plainDb))).toEqual(SECRETS.map((planted) => planted.kind));

    const malformed = join(dir, "malformed.json");
    writeFileSync(malformed, JSON.stringify({ format: "agent-session-manager/session", runs: [5] }));
    const rejected = await asm(["import", malformed, "--db", join(dir, "other.db"), "--json"]);
    expect(rejected.code).toBe(2);
    expect(JSON.parse(rejected.stderr).error.code).toBe("validation_error");
  });

  it("creates .asm/ 0700 and its database 0600 under umask 000", async () => {
    const result = await asmUnderUmask000(["run", "--provider", "shell", "--", "echo", "hi"], dir);
    expect(result.stderr).toBe("");
    expect(result.code).toBe(0);
    const mode = (path: string) => (statSync(path).mode & 0o777).toString(8);
    expect([mode(join(dir, ".asm")), mode(join(dir, ".asm", "asm.db"))]).toEqual(["700", "600"]);
  });
});

/** `asm run` of a command printing every planted secret, stored as is (`--no-redact`); its session id. */
async function runStoringSecrets(db: string): Promise<string> {
  const written = await asm([
    "run",
    "--provider",
    "shell",
    "--db",
    db,
    "--json",
    "--no-redact",
    "--",
    ...PRINT_SECRETS,
  ]);
  expect(written.code).toBe(0);
  return jsonLines(written.stdout)[0]?.sessionId ?? "";
}

import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeEach, describe, expect, it } from "vitest";
import {
  createOwnerOnlyFile,
  makeOwnerOnlyDirectory,
  writeOwnerOnlyFile,
} from "../shared/owner-only-files.js";
import { openSqliteStore } from "./index.js";

const root = mkdtempSync(join(tmpdir(), "asm-modes-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));

function mode(path: string): string {
  return (statSync(path).mode & 0o777).toString(8);
}

let counter = 0;
function freshDir(): string {
  counter += 1;
  const dir = join(root, `case-${counter}`);
  mkdirSync(dir);
  chmodSync(dir, 0o755);
  return dir;
}

// Permissive umasks: 000 would make files 0666 and directories 0777; 022 would make them 0644 and 0755.
describe.each([0o000, 0o022])("files the store creates, under umask %o", (umask) => {
  let previous: number;
  beforeEach(() => {
    previous = process.umask(umask);
  });
  afterEach(() => {
    process.umask(previous);
  });

  it("the database, its WAL and shared memory are 0600, the directories it creates 0700", async () => {
    const dir = freshDir();
    const path = join(dir, "project", ".asm", "asm.db");
    const store = await openSqliteStore({ path });
    try {
      await store.saveSession({
        id: "ses_modes",
        agentId: "a",
        status: "pending",
        metadata: {},
        context: {},
        tags: [],
        createdAt: new Date().toISOString(),
        updatedAt: new Date().toISOString(),
      });
      expect(existsSync(`${path}-wal`)).toBe(true);
      expect(existsSync(`${path}-shm`)).toBe(true);
      expect({
        db: mode(path),
        wal: mode(`${path}-wal`),
        shm: mode(`${path}-shm`),
        asm: mode(join(dir, "project", ".asm")),
        project: mode(join(dir, "project")),
        existing: mode(dir),
      }).toEqual({ db: "600", wal: "600", shm: "600", asm: "700", project: "700", existing: "755" });
    } finally {
      await store.close();
    }
  });

  it("an existing database keeps its mode (a shared one was shared on purpose)", async () => {
    const dir = freshDir();
    const path = join(dir, "shared.db");
    const first = await openSqliteStore({ path });
    await first.close();
    chmodSync(path, 0o640);
    const second = await openSqliteStore({ path });
    await second.close();
    expect(mode(path)).toBe("640");
  });

  it("owner-only helpers: new files 0600 and directories 0700; existing ones keep their mode", async () => {
    const dir = freshDir();
    makeOwnerOnlyDirectory(join(dir, "a", "b"));
    expect([mode(join(dir, "a")), mode(join(dir, "a", "b")), mode(dir)]).toEqual(["700", "700", "755"]);

    const file = join(dir, "a", "file");
    expect(createOwnerOnlyFile(file)).toBe(true);
    expect(createOwnerOnlyFile(file)).toBe(false);
    expect(mode(file)).toBe("600");

    const written = join(dir, "export.json");
    await writeOwnerOnlyFile(written, "one");
    expect([mode(written), readFileSync(written, "utf8")]).toEqual(["600", "one"]);
    const existing = join(dir, "existing.json");
    writeFileSync(existing, "a much longer old text");
    chmodSync(existing, 0o644);
    await writeOwnerOnlyFile(existing, "new");
    expect([mode(existing), readFileSync(existing, "utf8")]).toEqual(["644", "new"]);
  });
});

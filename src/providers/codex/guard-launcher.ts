import { createHash } from "node:crypto";
import {
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const HERE = path.dirname(fileURLToPath(import.meta.url));
/** Running from the TypeScript sources (vitest, tsx) rather than from the compiled package. */
const FROM_SOURCE = import.meta.url.endsWith(".ts");
const LAUNCHER_NAME = "codex-guard";

let launcher: string | undefined;

function shellQuote(text: string): string {
  return `'${text.replaceAll("'", `'\\''`)}'`;
}

/**
 * A directory only this user can write, named after the launcher's content so every process
 * with the same node and package shares it (nothing is left per process). In a shared temp
 * directory anyone could have made that name first: it is used only if it is a real directory
 * (not a symlink) owned by this user with no access for others, else a private fresh one is
 * (`temporary`: removed when the process exits). Exported for tests.
 */
export function launcherDir(script: string): { dir: string; temporary: boolean } {
  const uid = process.getuid?.();
  const hash = createHash("sha256").update(script).digest("hex").slice(0, 16);
  const shared = path.join(tmpdir(), `asm-codex-guard-${uid ?? "user"}-${hash}`);
  try {
    mkdirSync(shared, { mode: 0o700 });
  } catch {
    // Exists already (made by an earlier run, or by someone else: checked below).
  }
  try {
    const stat = lstatSync(shared);
    if (stat.isDirectory() && uid !== undefined && stat.uid === uid && (stat.mode & 0o077) === 0) {
      return { dir: shared, temporary: false };
    }
  } catch {
    // Not usable: fall back to a private directory.
  }
  return { dir: mkdtempSync(path.join(tmpdir(), "asm-codex-guard-")), temporary: true };
}

/**
 * The path to give the Codex SDK as `codexPathOverride`: an executable that runs the guard
 * (codex-guard.ts) with this process's node. The SDK spawns the path directly, with no shell and
 * no node, and a build does not keep file modes, so this is a two-line `/bin/sh` script that
 * `exec`s node (no extra process stays in between), kept in a directory only this user can
 * write (see `launcherDir`). From the TypeScript sources (tests) the guard runs through tsx.
 */
export function guardLauncherPath(): string {
  if (launcher !== undefined && existsSync(launcher)) return launcher;
  const guardFile = path.join(HERE, `${LAUNCHER_NAME}.${FROM_SOURCE ? "ts" : "js"}`);
  const command = [process.execPath];
  if (FROM_SOURCE) {
    command.push("--import", pathToFileURL(createRequire(import.meta.url).resolve("tsx")).href);
  }
  const script = `#!/bin/sh\nexec ${[...command, guardFile].map(shellQuote).join(" ")} "$@"\n`;
  const { dir, temporary } = launcherDir(script);
  const target = path.join(dir, LAUNCHER_NAME);
  let current: string | undefined;
  try {
    current = readFileSync(target, "utf8");
  } catch {
    current = undefined;
  }
  if (current !== script) {
    // Written aside and renamed: processes starting runs at the same time may race to write it.
    const temp = `${target}.${process.pid}.tmp`;
    writeFileSync(temp, script, { mode: 0o700 });
    renameSync(temp, target);
  }
  if (temporary) process.once("exit", () => rmSync(dir, { recursive: true, force: true }));
  launcher = target;
  return target;
}

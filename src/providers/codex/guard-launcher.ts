import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const HERE = path.dirname(fileURLToPath(import.meta.url));
/** Running from the TypeScript sources (vitest, tsx) rather than from the compiled package. */
const FROM_SOURCE = import.meta.url.endsWith(".ts");

let launcher: string | undefined;

function shellQuote(text: string): string {
  return `'${text.replaceAll("'", `'\\''`)}'`;
}

/**
 * The path to give the Codex SDK as `codexPathOverride`: an executable that runs the guard
 * (codex-guard.ts) with this process's node. The SDK spawns the path directly, with no shell and
 * no node, and a build does not keep file modes, so this is a two-line `/bin/sh` script that
 * `exec`s node (no extra process stays in between). It lives in a private temporary directory
 * (mkdtemp: a random name, mode 0700, so no other user can replace it) made once per process and
 * removed when the process exits. From the TypeScript sources (tests) the guard runs through tsx.
 */
export function guardLauncherPath(): string {
  if (launcher !== undefined && existsSync(launcher)) return launcher;
  const guardFile = path.join(HERE, `codex-guard.${FROM_SOURCE ? "ts" : "js"}`);
  const command = [process.execPath];
  if (FROM_SOURCE) {
    command.push("--import", pathToFileURL(createRequire(import.meta.url).resolve("tsx")).href);
  }
  const script = `#!/bin/sh\nexec ${[...command, guardFile].map(shellQuote).join(" ")} "$@"\n`;
  const dir = mkdtempSync(path.join(tmpdir(), "asm-codex-guard-"));
  const target = path.join(dir, "codex-guard");
  writeFileSync(target, script, { mode: 0o700 });
  process.once("exit", () => rmSync(dir, { recursive: true, force: true }));
  launcher = target;
  return target;
}

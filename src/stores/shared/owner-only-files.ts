import { chmodSync, closeSync, fchmodSync, mkdirSync, openSync } from "node:fs";
import { open } from "node:fs/promises";
import { dirname, resolve } from "node:path";

/**
 * Files and directories this project creates hold sessions, runs and events — prompts, outputs,
 * whatever secrets slipped through — so they are created owner-only: 0600 and 0700, set with
 * chmod after creation so no umask (000, or one that drops the owner's bits) changes them.
 * Existing files and directories keep their mode: a shared database was shared on purpose.
 */
export const OWNER_ONLY_FILE_MODE = 0o600;
export const OWNER_ONLY_DIRECTORY_MODE = 0o700;

/** Creates `path` and its missing parents owner-only; directories that exist are left alone. */
export function makeOwnerOnlyDirectory(path: string): void {
  const target = resolve(path);
  const first = mkdirSync(target, { recursive: true, mode: OWNER_ONLY_DIRECTORY_MODE });
  if (first === undefined) return;
  // mkdir reports the topmost directory it created; every one from there down to `target` is new.
  for (let directory = target; ; directory = dirname(directory)) {
    chmodSync(directory, OWNER_ONLY_DIRECTORY_MODE);
    if (directory === resolve(first) || dirname(directory) === directory) break;
  }
}

/** Creates an empty owner-only file at `path` unless something is there already; true if it created it. */
export function createOwnerOnlyFile(path: string): boolean {
  let fd: number;
  try {
    fd = openSync(path, "wx", OWNER_ONLY_FILE_MODE);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "EEXIST") return false;
    throw error;
  }
  try {
    fchmodSync(fd, OWNER_ONLY_FILE_MODE);
  } finally {
    closeSync(fd);
  }
  return true;
}

/** Writes `text` to `path`: a file it creates is owner-only; an existing one is replaced in place, mode kept. */
export async function writeOwnerOnlyFile(path: string, text: string): Promise<void> {
  let created = true;
  const handle = await open(path, "wx", OWNER_ONLY_FILE_MODE).catch((error: NodeJS.ErrnoException) => {
    if (error.code !== "EEXIST") throw error;
    created = false;
    return open(path, "w");
  });
  try {
    if (created) await handle.chmod(OWNER_ONLY_FILE_MODE);
    await handle.writeFile(text);
  } finally {
    await handle.close();
  }
}

/**
 * Races an artifact store against `dir-flipper.ts`: the store puts, gets, heads and deletes in a
 * loop while the flipper swaps directories of its tree for symlinks to outside directories and
 * back. Counts every time the store wrote or deleted outside, or returned an outside body.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { once } from "node:events";
import { mkdir, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { AsmError } from "../../../core/errors.js";
import type { ArtifactInfo, ArtifactStore } from "../../../ports/artifact-store.js";

const tsxLoader = pathToFileURL(createRequire(import.meta.url).resolve("tsx")).href;
const flipperScript = fileURLToPath(new URL("./dir-flipper.ts", import.meta.url));

/** Files under the outside directories, by path, with their contents. */
type Snapshot = Map<string, string>;

export interface FlipperRace {
  store: ArtifactStore;
  /**
   * Keys to cycle through. Every body the race puts is `INSIDE <key> <round>`; seed them the
   * same way. (A get may return an older body of its key: the flipper can put back a folder the
   * store had already replaced. A body of another key would be a bug.)
   */
  keys: readonly string[];
  /** Directories of the store's tree to flip, each with the outside directory its link points to. */
  flips: readonly { dir: string; target: string }[];
  /**
   * The outside directories, already holding the files an escaped read would find: their
   * contents start with `OUTSIDE`.
   */
  outside: readonly string[];
  /** Rounds of put, get, head, get, delete over `keys`. */
  rounds: number;
  /** Where the flipper's stop file goes. */
  workDir: string;
}

export interface FlipperRaceFigures {
  operations: Record<Operation, number>;
  /** Writes (put) or deletions (delete) outside, outside bodies or checksums returned (get, head). */
  escapes: Record<Operation, number>;
  /** Bodies or infos of another key than the one asked for (the store confused its own files). */
  foreign: number;
  /** Rejections by AsmError code. */
  errors: Record<string, number>;
  /** Rejections that were not an AsmError: `message` of each. */
  crashes: string[];
  flipper: { rounds: number; linkedSwaps: number };
}

type Operation = "put" | "get" | "head" | "delete";

export async function raceAgainstFlipper(race: FlipperRace): Promise<FlipperRaceFigures> {
  const original = await snapshot(race.outside);
  const outsideSums = new Set([...original.values()].map((text) => sha256(text)));
  const figures: FlipperRaceFigures = {
    operations: { put: 0, get: 0, head: 0, delete: 0 },
    escapes: { put: 0, get: 0, head: 0, delete: 0 },
    foreign: 0,
    errors: {},
    crashes: [],
    flipper: { rounds: 0, linkedSwaps: 0 },
  };
  /** Runs one operation; true when it escaped. Puts the outside back as it was after an escape. */
  const run = async <T>(operation: Operation, call: () => Promise<T>, leaked: (result: T) => boolean) => {
    figures.operations[operation]++;
    let escaped = false;
    try {
      escaped = leaked(await call());
    } catch (error) {
      if (error instanceof AsmError) figures.errors[error.code] = (figures.errors[error.code] ?? 0) + 1;
      else figures.crashes.push(error instanceof Error ? error.message : String(error));
    }
    if (!sameSnapshot(original, await snapshot(race.outside))) {
      escaped = true;
      await restore(race.outside, original);
    }
    if (escaped) figures.escapes[operation]++;
  };

  const stopFile = join(race.workDir, `stop-${process.pid}-${Date.now()}`);
  const flipper = spawn(
    process.execPath,
    [
      "--import",
      tsxLoader,
      flipperScript,
      stopFile,
      ...race.flips.map(({ dir, target }) => `${dir}=${target}`),
    ],
    { stdio: ["ignore", "pipe", "pipe"] },
  );
  const output = collect(flipper);
  try {
    await waitFor(output, flipper, (text) => text.includes("ready\n"));
    for (let round = 0; round < race.rounds; round++) {
      const key = race.keys[round % race.keys.length] ?? "";
      const outsideBody = (bytes: Uint8Array): boolean => {
        const text = Buffer.from(bytes).toString();
        if (!text.startsWith(`INSIDE ${key} `) && !text.startsWith("OUTSIDE")) figures.foreign++;
        return text.startsWith("OUTSIDE");
      };
      const outsideInfo = (info: ArtifactInfo | null): boolean => {
        if (info !== null && info.key !== key) figures.foreign++;
        return info !== null && outsideSums.has(info.sha256);
      };
      await run(
        "put",
        () => race.store.put(key, `INSIDE ${key} ${round}`),
        () => false,
      );
      await run("get", () => race.store.get(key), outsideBody);
      await run("head", () => race.store.head(key), outsideInfo);
      await run("get", () => race.store.get(key), outsideBody);
      await run(
        "delete",
        () => race.store.delete(key),
        () => false,
      );
    }
  } finally {
    await writeFile(stopFile, "");
    if (flipper.exitCode === null) await once(flipper, "exit");
    await rm(stopFile, { force: true });
  }
  const last = output.text.trim().split("\n").at(-1) ?? "";
  if (!last.startsWith("{")) throw new Error(`flipper failed: ${output.text} ${output.errors}`);
  figures.flipper = JSON.parse(last);
  return figures;
}

async function snapshot(dirs: readonly string[]): Promise<Snapshot> {
  const files: Snapshot = new Map();
  for (const dir of dirs) {
    for (const entry of await readdir(dir, { recursive: true, withFileTypes: true })) {
      const path = join(entry.parentPath, entry.name);
      files.set(
        path,
        entry.isFile() ? await readFile(path, "utf8") : `<${entry.isDirectory() ? "dir" : "other"}>`,
      );
    }
  }
  return files;
}

function sameSnapshot(a: Snapshot, b: Snapshot): boolean {
  return a.size === b.size && [...a].every(([path, text]) => b.get(path) === text);
}

async function restore(dirs: readonly string[], original: Snapshot): Promise<void> {
  for (const dir of dirs) {
    await rm(dir, { recursive: true, force: true });
    await mkdir(dir, { recursive: true });
  }
  for (const [path, text] of original) {
    if (text === "<dir>") await mkdir(path, { recursive: true });
  }
  for (const [path, text] of original) {
    if (!text.startsWith("<")) await writeFile(path, text);
  }
}

function sha256(text: string): string {
  return createHash("sha256").update(text).digest("hex");
}

function collect(child: ChildProcess): { text: string; errors: string } {
  const output = { text: "", errors: "" };
  child.stdout?.on("data", (chunk: Buffer) => {
    output.text += chunk.toString();
  });
  child.stderr?.on("data", (chunk: Buffer) => {
    output.errors += chunk.toString();
  });
  return output;
}

async function waitFor(
  output: { text: string; errors: string },
  child: ChildProcess,
  done: (text: string) => boolean,
): Promise<void> {
  while (!done(output.text)) {
    if (child.exitCode !== null) throw new Error(`flipper exited early: ${output.errors}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

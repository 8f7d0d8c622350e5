/** Temporary folders and tree listings for the file artifact store tests. */
import { mkdir, mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";

export interface Scratch {
  /** A fresh, empty folder with `name` in its path. */
  fresh(name: string): Promise<string>;
  /** Removes every folder `fresh` made. */
  cleanup(): Promise<void>;
}

export function scratch(prefix: string): Scratch {
  let base: string | undefined;
  let counter = 0;
  return {
    async fresh(name) {
      base ??= await mkdtemp(join(tmpdir(), `${prefix}-`));
      const dir = join(base, `${name}-${++counter}`);
      await mkdir(dir, { recursive: true });
      return dir;
    },
    async cleanup() {
      if (base !== undefined) await rm(base, { recursive: true, force: true });
    },
  };
}

/** Every entry under `dir` that is not a directory, as sorted paths relative to it. */
export async function filesUnder(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries
    .filter((entry) => !entry.isDirectory())
    .map((entry) => join(entry.parentPath, entry.name).slice(dir.length + 1))
    .sort();
}

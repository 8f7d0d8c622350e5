/**
 * Swaps directories for symlinks and back as fast as it can, to race a file artifact store:
 *
 *   node --import tsx dir-flipper.ts <stop-file> <dir>=<link-target> [<dir>=<link-target> …]
 *
 * Each round, for every pair: the real `<dir>` is renamed aside, a symlink to `<link-target>`
 * is renamed into its place, then the link is taken out and the real directory put back. Each
 * swap is one rename(2), so the store sees the directory, the link or (briefly) nothing, never
 * a half-made entry. When the store recreates a directory while the real one is aside, the
 * flipper keeps the store's one and moves on (the aside copy stays, under a `.flip-real-N` name).
 *
 * It prints `ready` once every link is made, and stops when `<stop-file>` exists (checked
 * between rounds), printing `{"rounds":…,"linkedSwaps":…}`: how often a link stood in a
 * directory's place.
 */
import { existsSync, renameSync, rmSync, symlinkSync } from "node:fs";

const [stopFile, ...specs] = process.argv.slice(2);
if (stopFile === undefined || specs.length === 0) {
  process.stderr.write("usage: dir-flipper.ts <stop-file> <dir>=<link-target> …\n");
  process.exit(2);
}

interface Pair {
  dir: string;
  link: string;
  aside: string;
}

const pairs: Pair[] = specs.map((spec) => {
  const split = spec.indexOf("=");
  const dir = spec.slice(0, split);
  const link = `${dir}.flip-link`;
  rmSync(link, { force: true });
  symlinkSync(spec.slice(split + 1), link);
  return { dir, link, aside: `${dir}.flip-real` };
});
process.stdout.write("ready\n");

let rounds = 0;
let linkedSwaps = 0;
let strays = 0;
while (!existsSync(stopFile)) {
  rounds++;
  for (const pair of pairs) {
    if (!attempt(() => renameSync(pair.dir, pair.aside))) continue;
    // Fails when the store made a new directory in the gap: then that one stays.
    if (attempt(() => renameSync(pair.link, pair.dir))) {
      linkedSwaps++;
      renameSync(pair.dir, pair.link);
    }
    if (!attempt(() => renameSync(pair.aside, pair.dir))) {
      renameSync(pair.aside, `${pair.dir}.flip-real-${++strays}`);
    }
  }
}
// Leave the tree as the store expects it: no link left at any directory's place.
for (const pair of pairs) rmSync(pair.link, { force: true });
process.stdout.write(`${JSON.stringify({ rounds, linkedSwaps })}\n`);

function attempt(step: () => void): boolean {
  try {
    step();
    return true;
  } catch {
    return false;
  }
}

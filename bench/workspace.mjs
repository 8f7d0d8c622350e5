// Workspace snapshots on a 10,000-file git repository with 100 changed files: median wall time of
// `Workspace.snapshot` (git backend) + `Workspace.diff` against a snapshot taken before the
// changes, against `git status --porcelain` + `git diff --stat` on the same repository in the same
// run (interleaved), target ratio <= 2. Beside it: the same with the patch captured, the hash
// backend (snapshot + diff) on the same tree, and a whole before/after cycle. Every sample checks
// its figures (100 files changed). Result: bench/results/workspace.json.
//
//   node bench/workspace.mjs [--files 10000] [--changed 100] [--samples 7]   (needs a built dist/)
import { execFile } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { cpus } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { Workspace } from "../dist/index.js";
import { describeTarget, formatMs, median, meetsTarget, quantile, tempDir, timed } from "./lib.mjs";

const run = promisify(execFile);
const arg = (name, fallback) => {
  const index = process.argv.indexOf(`--${name}`);
  return index === -1 ? fallback : Number(process.argv[index + 1]);
};
const FILES = arg("files", 10_000);
const CHANGED = arg("changed", 100);
const SAMPLES = arg("samples", 7);
const PER_DIR = 100;
const TARGET = { atMost: 2 };
const GIT_ENV = {
  ...process.env,
  GIT_AUTHOR_NAME: "bench",
  GIT_AUTHOR_EMAIL: "bench@example.com",
  GIT_COMMITTER_NAME: "bench",
  GIT_COMMITTER_EMAIL: "bench@example.com",
};

const git = (cwd, ...args) => run("git", args, { cwd, env: GIT_ENV, maxBuffer: 256 * 1024 * 1024 });
const fileName = (n) => join(`d${String(Math.floor(n / PER_DIR)).padStart(3, "0")}`, `f${n}.txt`);
const content = (n, edit) =>
  `${Array.from(
    { length: 20 },
    (_, line) => `file ${n} line ${line}${edit && line === 10 ? ` edited ${edit}` : ""}`,
  ).join("\n")}\n`;

function fill(dir) {
  for (let dirIndex = 0; dirIndex * PER_DIR < FILES; dirIndex++) {
    mkdirSync(join(dir, `d${String(dirIndex).padStart(3, "0")}`), { recursive: true });
  }
  for (let n = 0; n < FILES; n++) writeFileSync(join(dir, fileName(n)), content(n));
}

/** Changes CHANGED files spread over the tree: edits, plus a tenth new untracked files. */
function change(dir) {
  const step = Math.floor(FILES / CHANGED);
  const created = Math.floor(CHANGED / 10);
  for (let k = 0; k < CHANGED - created; k++)
    writeFileSync(join(dir, fileName(k * step)), content(k * step, "x"));
  for (let k = 0; k < created; k++) writeFileSync(join(dir, `d000/new${k}.txt`), "new\nfile\n");
}

async function baseline(dir) {
  const status = await git(dir, "status", "--porcelain");
  const stat = await git(dir, "diff", "--stat");
  const lines = status.stdout.split("\n").filter(Boolean).length;
  if (lines !== CHANGED) throw new Error(`git status listed ${lines} changes, expected ${CHANGED}`);
  return stat.stdout.length;
}

async function ours(workspace, dir, before, options) {
  const after = await workspace.snapshot(dir, { strategy: before.backend });
  const diff = await workspace.diff(before, after, options);
  if (diff.filesChanged !== CHANGED)
    throw new Error(`${before.backend} diff: ${diff.filesChanged} files changed, expected ${CHANGED}`);
  if (options?.capturePatch && !diff.patch) throw new Error("no patch captured");
  return diff;
}

const { dir, remove } = tempDir("workspace");
try {
  const setup = await timed(async () => {
    fill(dir);
    await git(dir, "init", "-q", "-b", "main");
    await git(dir, "add", "-A");
    await git(dir, "commit", "-q", "-m", "initial");
  });
  const workspace = new Workspace();
  const gitBefore = await workspace.snapshot(dir, { strategy: "git" });
  const hashBefore = await workspace.snapshot(dir, { strategy: "hash" });
  change(dir);
  // Warm-up: the page cache, git's own caches, V8's compiler.
  await baseline(dir);
  await ours(workspace, dir, gitBefore);
  await ours(workspace, dir, hashBefore);

  const samples = { baseline: [], git: [], gitPatch: [], hash: [], cycle: [] };
  for (let sample = 0; sample < SAMPLES; sample++) {
    samples.baseline.push((await timed(() => baseline(dir))).ms);
    samples.git.push((await timed(() => ours(workspace, dir, gitBefore))).ms);
    samples.gitPatch.push((await timed(() => ours(workspace, dir, gitBefore, { capturePatch: true }))).ms);
    samples.hash.push((await timed(() => ours(workspace, dir, hashBefore))).ms);
    samples.cycle.push(
      (
        await timed(async () => {
          const before = await workspace.snapshot(dir, { strategy: "git" });
          const after = await workspace.snapshot(dir, { strategy: "git" });
          await workspace.diff(before, after);
        })
      ).ms,
    );
  }
  const medians = Object.fromEntries(Object.entries(samples).map(([name, list]) => [name, median(list)]));
  const ratios = {
    git: medians.git / medians.baseline,
    gitPatch: medians.gitPatch / medians.baseline,
    hash: medians.hash / medians.baseline,
  };
  const met = meetsTarget(ratios.git, TARGET);
  const spread = (name) => `p90 ${formatMs(quantile(samples[name], 0.9))}`;
  console.log(`workspace: ${FILES} files, ${CHANGED} changed (repository set up in ${formatMs(setup.ms)})`);
  console.log(
    `  git status --porcelain + git diff --stat   ${formatMs(medians.baseline)} (${spread("baseline")})`,
  );
  console.log(
    `  git snapshot + diff                        ${formatMs(medians.git)} (${spread("git")})  ratio ${ratios.git.toFixed(2)} (target ${describeTarget(TARGET)}: ${met ? "met" : "NOT met"})`,
  );
  console.log(
    `  git snapshot + diff with patch             ${formatMs(medians.gitPatch)} (${spread("gitPatch")})  ratio ${ratios.gitPatch.toFixed(2)}`,
  );
  console.log(
    `  hash snapshot + diff                       ${formatMs(medians.hash)} (${spread("hash")})  ratio ${ratios.hash.toFixed(2)}`,
  );
  console.log(`  whole cycle (before + after + diff, git)   ${formatMs(medians.cycle)} (${spread("cycle")})`);
  const result = {
    machine: { cpus: cpus().length, node: process.version, git: (await git(dir, "--version")).stdout.trim() },
    files: FILES,
    changed: CHANGED,
    samples,
    medianMs: medians,
    ratios,
    target: { ratio: "git snapshot + diff / (git status --porcelain + git diff --stat)", ...TARGET, met },
  };
  mkdirSync(new URL("./results/", import.meta.url), { recursive: true });
  writeFileSync(new URL("./results/workspace.json", import.meta.url), `${JSON.stringify(result, null, 2)}\n`);
  console.log("results written to bench/results/workspace.json");
} finally {
  remove();
}

// Shared helpers for the benchmarks: timing, statistics, temp files and printing.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";

export function median(samples) {
  const sorted = [...samples].sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

/** The p-quantile (0..1) by nearest rank; used to show the spread next to a median. */
export function quantile(samples, p) {
  const sorted = [...samples].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1))];
}

/** Runs `fn` (awaited) and returns its value with the milliseconds it took. */
export async function timed(fn) {
  const start = performance.now();
  const value = await fn();
  return { ms: performance.now() - start, value };
}

/** Collects garbage left by the previous measurement so it is not charged to the next one. */
export function collectGarbage() {
  globalThis.gc?.();
}

/** A fresh temp directory, removed by the returned function. */
export function tempDir(prefix) {
  const dir = mkdtempSync(join(tmpdir(), `asm-bench-${prefix}-`));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/**
 * A deterministic pseudo-random generator (mulberry32), so cursor offsets are the same from one
 * run to the next and results stay comparable.
 */
export function seededRandom(seed) {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Text of a given length, varied so SQLite cannot store it any more compactly than real output. */
export function filler(length, salt) {
  const words = "the agent streams partial output while a tool call runs and tokens accumulate ";
  let text = `${salt} `;
  while (text.length < length) text += words;
  return text.slice(0, length);
}

export function formatRate(perSecond) {
  return perSecond >= 1000 ? `${(perSecond / 1000).toFixed(1)}k` : perSecond.toFixed(0);
}

export function formatMs(ms) {
  return ms >= 10 ? `${ms.toFixed(1)} ms` : `${ms.toFixed(3)} ms`;
}

/** Whether a measured ratio meets its target; `atLeast` targets are floors, the others ceilings. */
export function meetsTarget(ratio, target) {
  return target.atLeast !== undefined ? ratio >= target.atLeast : ratio <= target.atMost;
}

export function describeTarget(target) {
  return target.atLeast !== undefined ? `>= ${target.atLeast}` : `<= ${target.atMost}`;
}

/** Saves a pending session record for `id` straight into `store` (no manager in the way). */
export async function saveBenchSession(store, id) {
  const now = new Date().toISOString();
  await store.saveSession({
    id,
    agentId: "bench",
    status: "pending",
    metadata: {},
    context: {},
    tags: [],
    createdAt: now,
    updatedAt: now,
  });
}

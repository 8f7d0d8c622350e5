/**
 * The fuzz test every agent adapter gets (Claude, Codex, Amp): a seeded transcript of valid
 * marker messages among every kind of bad output (see `fuzzTranscript`), played by the real
 * scripted CLI through the real SDK or spawner, must end as a successful run with every marker
 * mapped once and in order, one `parse_error` per bad line and the right output.
 * Test-only: excluded from the published build (tsconfig.build.json).
 */
import path from "node:path";
import { expect } from "vitest";
import type { ProviderAdapter } from "../../ports/provider-adapter.js";
import {
  type FuzzableProvider,
  type FuzzOptions,
  fuzzTranscript,
  writeTranscript,
} from "../../testing/scripted-cli/index.js";
import { run, type Scripted, succeeds } from "./scripted-adapter.js";

/** Lines per fuzz run in `npm test`: enough for every kind of line many times, quick on 2 cores. */
export const FUZZ_TEST_LINES = 1500;

/** Runs the fuzz transcript of `seed` on the adapter `scripted` makes, and checks what it emitted. */
export async function expectFuzzSurvived(
  provider: FuzzableProvider,
  scripted: (transcript: string) => Scripted<ProviderAdapter>,
  workDir: string,
  options: FuzzOptions,
): Promise<void> {
  const fuzz = fuzzTranscript(provider, options);
  const name = `fuzz-${provider}-${options.seed}.jsonl`;
  writeTranscript(path.join(workDir, name), fuzz.lines);
  const { result, sink } = await succeeds(run(scripted(name).adapter));
  expect(result.output.content).toBe(fuzz.finalText);
  const messages = sink.of("message_received").map((event) => event.data.content);
  // Codex's answer is its last agent message, so it is a message too.
  expect(messages.filter((text) => text !== fuzz.finalText)).toEqual(fuzz.markers);
  const errors = sink.of("error_occurred");
  expect(errors.filter((event) => event.data.errorCode !== "parse_error").map((event) => event.data)).toEqual(
    [],
  );
  expect(errors.length, JSON.stringify(fuzz.kinds)).toBe(fuzz.badLines);
  for (const event of errors) {
    expect(event.data.fatal).toBe(false);
    expect(String(event.data.details?.line).length).toBeLessThanOrEqual(4096);
  }
}

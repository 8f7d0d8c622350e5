import { describe, it } from "vitest";
import { expectFuzzSurvived, FUZZ_TEST_LINES } from "../test-support/output-fuzz.js";
import { scriptedAdapterFactory, tempWorkDir } from "../test-support/scripted-adapter.js";
import { AmpAdapter, type AmpAdapterOptions } from "./index.js";

const workDir = tempWorkDir("asm-amp-fuzz-");
const scripted = scriptedAdapterFactory({
  cli: "amp",
  transcripts: workDir,
  workDir,
  create: (options: AmpAdapterOptions) =>
    new AmpAdapter({ ...options, env: { AMP_API_KEY: "amp-test-key", ...options.env } }),
});

describe("AmpAdapter: fuzzed output (seeded; bench/fuzz-providers.mjs runs the long version)", () => {
  it.each([1, 2])(
    `seed %i: ${FUZZ_TEST_LINES} lines of random bytes, truncated JSON, wrong shapes of every frame type, unknown types, deep nesting and 10 MiB lines among markers: every marker in order, one parse_error per bad line, the right result`,
    async (seed) => {
      await expectFuzzSurvived("amp", scripted, workDir, { seed, lines: FUZZ_TEST_LINES });
    },
    120_000,
  );
});

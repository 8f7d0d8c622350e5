import { randomUUID } from "node:crypto";
import { existsSync, mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, afterEach, expect } from "vitest";
import { openSqliteStore, type SqliteSessionStore } from "../../../stores/sqlite/index.js";
import {
  type MockGeminiApi,
  type MockGeminiReplier,
  startMockGeminiApi,
} from "../../../testing/mock-gemini-api.js";
import { type EgressTrap, startEgressTrap } from "../../../testing/mock-openai-api.js";
import { withoutHostVariables } from "../../test-support/e2e-host.js";
import { defaultGeminiExecutable } from "../options.js";

/*
 * What the suites that run the real Gemini CLI share (headless, and in ACP mode): the CLI bundle,
 * the host's variables kept away from it, and each case's loopback API mock, egress trap,
 * directories and store, closed after the case with nothing having left the machine.
 */

/** The real CLI: the pure-JS bundle of @google/gemini-cli, a dev dependency. */
export const GEMINI = defaultGeminiExecutable();
/** Whether it is installed; the suites skip without it, except in CI, where they must run. */
export const GEMINI_AVAILABLE = path.isAbsolute(GEMINI) && existsSync(GEMINI);
export const GEMINI_E2E_MODEL = "gemini-2.5-flash";

/** One case: its mock, trap, directories (`dir` holds the rest; `cwd` is the agent's), store and environment. */
export interface GeminiE2eCase {
  api: MockGeminiApi;
  trap: EgressTrap;
  store: SqliteSessionStore;
  dir: string;
  cwd: string;
  /** A value the case's CLI carries in its environment, to find its processes. */
  marker: string;
  /** The CLI's environment: the trap's proxies, the mock as the API, a dummy key, `HOME` in `dir`. */
  env: Record<string, string>;
}

/**
 * Registers the suite's hooks (host variables removed, cases closed and checked after each test,
 * the temporary root removed after all) and returns how to open a case.
 */
export function geminiE2eCases(prefix: string): (replier: MockGeminiReplier) => Promise<GeminiE2eCase> {
  const root = mkdtempSync(path.join(tmpdir(), prefix));
  const open: GeminiE2eCase[] = [];
  // Variables from the host that could send the CLI elsewhere or log it in for real.
  withoutHostVariables(/^(GEMINI_|GOOGLE_)|PROXY/i);
  afterEach(async () => {
    for (const { store, api, trap } of open.splice(0)) {
      expect(trap.attempts).toEqual([]);
      expect(api.connections.filter((address) => !/^(::ffff:)?127\.|^::1$/.test(address))).toEqual([]);
      await store.close();
      await api.close();
      await trap.close();
    }
  });
  afterAll(() => rmSync(root, { recursive: true, force: true }));
  return async (replier) => {
    const api = await startMockGeminiApi(replier);
    const trap = await startEgressTrap();
    const dir = mkdtempSync(path.join(root, "case-"));
    const cwd = path.join(dir, "work");
    mkdirSync(cwd);
    const marker = randomUUID();
    const store = await openSqliteStore({ path: path.join(dir, "asm.db") });
    const env = {
      ...trap.env(),
      GOOGLE_GEMINI_BASE_URL: api.url,
      GEMINI_API_KEY: "dummy",
      HOME: dir,
      ASM_E2E_MARKER: marker,
    };
    const opened = { api, trap, store, dir, cwd, marker, env };
    open.push(opened);
    return opened;
  };
}

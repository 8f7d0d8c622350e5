/**
 * A run that never ends, on every provider (the shell, and the scripted Claude, Codex and Amp
 * CLIs), with a child process that ignores SIGTERM, and the pids of its whole process tree once
 * it is running. Free of vitest, so a separate host process (stalled-run-host.ts) can run it too.
 * Test-only: excluded from the published build (tsconfig.build.json).
 */
import { execFileSync } from "node:child_process";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { fileURLToPath } from "node:url";
import type { AdapterEvent } from "../../core/events.js";
import type { RunInput } from "../../core/run.js";
import type { ExecuteRequest, ProviderAdapter } from "../../ports/provider-adapter.js";
import { makeExecuteRequest, RecordingSink } from "../../testing/adapter-conformance.js";
import { readScriptedCliRecord, scriptedCliEnv, scriptedCliPath } from "../../testing/scripted-cli/index.js";
import { AmpAdapter } from "../amp/index.js";
import { ClaudeAdapter } from "../claude/index.js";
import { CodexAdapter } from "../codex/index.js";
import { ShellAdapter } from "../shell/index.js";

export const STALLING_PROVIDERS = ["shell", "claude", "codex", "amp"] as const;
export type StallingProvider = (typeof STALLING_PROVIDERS)[number];

interface StalledRunSetup {
  adapter: ProviderAdapter;
  input: RunInput;
  /** Every pid of the run's process tree once it is all running; undefined until then. */
  treePids(events: readonly AdapterEvent[]): number[] | undefined;
}

const PROVIDERS_DIR = fileURLToPath(new URL("../", import.meta.url));

/** The transcript, in each scripted CLI's own protocol, of a CLI that stalls ignoring SIGTERM. */
const STALL_TRANSCRIPTS: Record<Exclude<StallingProvider, "shell">, string> = {
  claude: "claude/transcripts/stall-ignores-sigterm.jsonl",
  codex: "codex/transcripts/stall-ignores-sigterm.jsonl",
  amp: "amp/transcripts/stall-ignoring-sigterm.jsonl",
};

/** The stalled run of `provider`, working in `dir`, with each adapter's default kill grace. */
function stalledRun(provider: StallingProvider, dir: string): StalledRunSetup {
  if (provider === "shell") {
    return {
      adapter: new ShellAdapter({ cwd: dir }),
      input: { command: ["/bin/sh", "-c", "trap '' TERM; sleep 3600 & echo ready; wait"] },
      treePids(events) {
        const started = events.find((event) => event.type === "run_started");
        const pid = started?.type === "run_started" ? started.data.pid : undefined;
        const ready = events.some(
          (event) => event.type === "message_streamed" && event.data.delta.includes("ready"),
        );
        return typeof pid === "number" && ready ? liveGroupMembers(pid) : undefined;
      },
    };
  }
  const record = path.join(dir, `${provider}-record.json`);
  const options = {
    executablePath: scriptedCliPath(provider),
    cwd: dir,
    env: {
      ...scriptedCliEnv({ scenario: path.join(PROVIDERS_DIR, STALL_TRANSCRIPTS[provider]), record }),
      ...(provider === "amp" ? { AMP_API_KEY: "sgamp_test_key" } : {}),
    },
  };
  const adapter =
    provider === "claude"
      ? new ClaudeAdapter(options)
      : provider === "codex"
        ? new CodexAdapter(options)
        : new AmpAdapter(options);
  return {
    adapter,
    input: { prompt: "stall" },
    treePids() {
      const seen = readScriptedCliRecord(record);
      if (!seen?.stalled) return undefined;
      // The Codex CLI runs under the adapter's guard process: part of the tree too.
      const guard = provider === "codex" ? [parentPid(seen.pid)] : [];
      return [...new Set([...guard, ...liveGroupMembers(seen.pid), ...seen.childPids])];
    },
  };
}

export interface StartedStalledRun {
  adapter: ProviderAdapter;
  request: ExecuteRequest;
  /** The run's outcome: its error, or "completed" (it should not). */
  outcome: Promise<unknown>;
  /** Every pid of the run's process tree, once it is all running (20 s at the most). */
  tree(): Promise<number[]>;
}

/** Starts the stalled run of `provider` in `dir` (see `stalledRun`). */
export function startStalledRun(provider: StallingProvider, dir: string): StartedStalledRun {
  const setup = stalledRun(provider, dir);
  const sink = new RecordingSink();
  const request = makeExecuteRequest(setup.input);
  let settled: unknown;
  const outcome = setup.adapter.execute(request, sink, new AbortController().signal).then(
    () => (settled = "completed"),
    (error: unknown) => (settled = error),
  );
  const tree = async (): Promise<number[]> => {
    const deadline = Date.now() + 20_000;
    for (;;) {
      if (settled !== undefined) throw new Error(`the stalled run ended: ${String(settled)}`);
      const pids = setup.treePids(sink.events);
      if (pids !== undefined && pids.length > 0) return pids;
      if (Date.now() > deadline) throw new Error("the stalled run's process tree never appeared");
      await sleep(25);
    }
  };
  return { adapter: setup.adapter, request, outcome, tree };
}

/** The pids of the running (not zombie) processes in group `pgid`. */
function liveGroupMembers(pgid: number): number[] {
  return execFileSync("ps", ["-e", "-o", "pid=,pgid=,stat="], { encoding: "utf8" })
    .split("\n")
    .map((line) => line.trim().split(/\s+/))
    .filter(([, group, state]) => Number(group) === pgid && state !== undefined && !state.startsWith("Z"))
    .map(([pid]) => Number(pid));
}

function parentPid(pid: number): number {
  return Number(execFileSync("ps", ["-o", "ppid=", "-p", String(pid)], { encoding: "utf8" }).trim());
}

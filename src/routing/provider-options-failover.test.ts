import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { AsmError } from "../core/errors.js";
import { ClaudeAdapter, type ClaudeAdapterOptions } from "../providers/claude/index.js";
import { CodexAdapter, type CodexAdapterOptions } from "../providers/codex/index.js";
import { scriptedAdapterFactory, tempWorkDir } from "../providers/test-support/scripted-adapter.js";
import { SessionManager } from "../session-manager.js";
import { MemorySessionStore } from "../stores/memory/index.js";
import { ProviderRouter } from "./provider-router.js";

// One directory per factory: each numbers its scripted CLIs' records from 1.
/** A CodexAdapter on the real SDK, with the scripted Codex CLI playing a transcript. */
const scriptedCodex = scriptedAdapterFactory({
  cli: "codex",
  transcripts: fileURLToPath(new URL("../providers/codex/transcripts/", import.meta.url)),
  workDir: tempWorkDir("asm-failover-codex-"),
  create: (options: CodexAdapterOptions) => new CodexAdapter(options),
});
/** A ClaudeAdapter on the real SDK, with the scripted Claude CLI playing a transcript. */
const scriptedClaude = scriptedAdapterFactory({
  cli: "claude",
  transcripts: fileURLToPath(new URL("../providers/claude/transcripts/", import.meta.url)),
  workDir: tempWorkDir("asm-failover-claude-"),
  create: (options: ClaudeAdapterOptions) => new ClaudeAdapter(options),
});

/** Codex first (playing `codexTranscript`), Claude second (`claudeTranscript`), behind a router. */
function routed(codexTranscript: string, claudeTranscript = "text.jsonl") {
  const codex = scriptedCodex(codexTranscript);
  const claude = scriptedClaude(claudeTranscript);
  const router = new ProviderRouter({ prefer: ["codex", "claude"] });
  router.register("codex", codex.adapter);
  router.register("claude", claude.adapter);
  const store = new MemorySessionStore();
  return { codex, claude, store, manager: new SessionManager({ store, adapter: router }) };
}

/** The value after `flag` in `argv`, whether given as `--flag value` or `--flag=value`. */
function flagValue(argv: readonly string[], flag: string): string | undefined {
  const joined = argv.find((arg) => arg.startsWith(`${flag}=`));
  if (joined !== undefined) return joined.slice(flag.length + 1);
  const index = argv.indexOf(flag);
  return index >= 0 ? argv[index + 1] : undefined;
}

describe("per-provider options through a router (real adapters, scripted CLIs)", () => {
  it("a failover from Codex to Claude with options for both succeeds; each CLI got its own", async () => {
    const { codex, claude, store, manager } = routed("rate-limited.jsonl");
    const result = await manager.runOnce("Say hello", {
      providerOptions: {
        router: { maxAttempts: 2 },
        // Keys each of the other adapters would refuse as unknown: neither sees the other's.
        codex: { resumeThreadId: "thread-from-before", model: "gpt-codex-only" },
        claude: { resumeSessionId: "sess-from-before", model: "claude-only", maxTurns: 3 },
      },
    });

    expect(result.output.content).toBe("Hello from Claude");
    const run = await store.getRun(result.runId);
    expect(run.provider).toBe("claude");
    expect(run.metadata.routing).toMatchObject({
      routedProvider: "claude",
      attempt: 2,
      failoverFrom: "codex",
      failoverReason: "provider_rate_limited",
    });

    const codexArgv = codex.record().argv;
    expect(codexArgv.slice(-2)).toEqual(["resume", "thread-from-before"]);
    expect(flagValue(codexArgv, "--model")).toBe("gpt-codex-only");
    expect(codexArgv.join(" ")).not.toContain("sess-from-before");

    const claudeArgv = claude.record().argv;
    expect(flagValue(claudeArgv, "--resume")).toBe("sess-from-before");
    expect(flagValue(claudeArgv, "--model")).toBe("claude-only");
    expect(flagValue(claudeArgv, "--max-turns")).toBe("3");
    expect(claudeArgv.join(" ")).not.toContain("thread-from-before");
    expect(claudeArgv.join(" ")).not.toContain("gpt-codex-only");
  });

  it("an unknown key in a provider's own namespace is still a validation_error, never dropped", async () => {
    // Claude's typo surfaces when the run reaches Claude, after Codex failed over to it.
    const late = routed("rate-limited.jsonl");
    const error = await late.manager
      .runOnce("Say hello", {
        providerOptions: { codex: { model: "gpt-codex-only" }, claude: { resumeSesionId: "sess-typo" } },
      })
      .then(
        () => undefined,
        (caught: unknown) => caught,
      );
    expect(AsmError.is(error, "validation_error")).toBe(true);
    expect((error as AsmError).message).toContain("resumeSesionId");
    expect(late.claude.record).toThrowError("the scripted CLI wrote no record");

    // Codex's own typo stops the run before its CLI starts; the router does not fail over on it.
    const early = routed("text.jsonl");
    const refused = await early.manager
      .runOnce("Say hello", { providerOptions: { codex: { resumeThreadID: "thread-typo" } } })
      .then(
        () => undefined,
        (caught: unknown) => caught,
      );
    expect(AsmError.is(refused, "validation_error")).toBe(true);
    expect(early.codex.record).toThrowError("the scripted CLI wrote no record");
    expect(early.claude.record).toThrowError("the scripted CLI wrote no record");
  });
});

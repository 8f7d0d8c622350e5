import { defaultGeminiExecutable } from "../gemini/options.js";

/** An agent known by name: how to start it and what to avoid. */
export interface AcpPreset {
  /** For messages. */
  displayName: string;
  /** The argv that starts it. */
  command(): string[];
  /** Variables it needs set (the caller's `env` wins). */
  env: Readonly<Record<string, string>>;
  /** False when its `session/load` must not be used. */
  loadSession: boolean;
}

/**
 * Named ACP agents:
 *
 * | name          | command                                              | notes |
 * |---------------|------------------------------------------------------|-------|
 * | `gemini`      | `gemini --acp` (the installed `@google/gemini-cli` bundle, else `gemini` on PATH) | `GEMINI_CLI_NO_RELAUNCH=true`; no `session/load` (it loses the history in 0.61, gemini-cli#28775): resume with the Gemini adapter instead |
 * | `claude-code` | `claude-agent-acp` (`@agentclientprotocol/claude-agent-acp`) | needs `ANTHROPIC_API_KEY`; as root, `IS_SANDBOX=1` |
 * | `codex`       | `codex-acp` (`@agentclientprotocol/codex-acp`)       | needs `OPENAI_API_KEY` or `CODEX_API_KEY` |
 *
 * Any other agent: pass its argv as `agent`.
 */
export const ACP_PRESETS = {
  gemini: {
    displayName: "Gemini CLI (ACP)",
    command() {
      const executable = defaultGeminiExecutable();
      return executable.endsWith(".js") ? [process.execPath, executable, "--acp"] : [executable, "--acp"];
    },
    env: { GEMINI_CLI_NO_RELAUNCH: "true" },
    loadSession: false,
  },
  "claude-code": {
    displayName: "Claude Code (ACP)",
    command: () => ["claude-agent-acp"],
    env: {},
    loadSession: true,
  },
  codex: {
    displayName: "Codex (ACP)",
    command: () => ["codex-acp"],
    env: {},
    loadSession: true,
  },
} as const satisfies Record<string, AcpPreset>;

export type AcpPresetName = keyof typeof ACP_PRESETS;
export const ACP_PRESET_NAMES = Object.keys(ACP_PRESETS) as [AcpPresetName, ...AcpPresetName[]];

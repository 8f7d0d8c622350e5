import { existsSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import { AsmError } from "../core/errors.js";
import { PROVIDERS } from "../providers/shared/provider-failures.js";

type AgentProvider = keyof typeof PROVIDERS;

/** Where each CLI finds credentials: any of these environment variables, or a login file. */
const CREDENTIALS: Record<AgentProvider, { env: string[]; loginFile?: () => string }> = {
  claude: {
    env: [
      "ANTHROPIC_API_KEY",
      "ANTHROPIC_AUTH_TOKEN",
      "CLAUDE_CODE_OAUTH_TOKEN",
      "CLAUDE_CODE_USE_BEDROCK",
      "CLAUDE_CODE_USE_VERTEX",
    ],
    loginFile: () => join(process.env.CLAUDE_CONFIG_DIR ?? join(homedir(), ".claude"), ".credentials.json"),
  },
  codex: {
    env: ["CODEX_API_KEY", "OPENAI_API_KEY"],
    loginFile: () => join(process.env.CODEX_HOME ?? join(homedir(), ".codex"), "auth.json"),
  },
  amp: { env: ["AMP_API_KEY"] },
};

/**
 * Fails fast, before anything is spawned or stored, when a provider has no credentials at all:
 * the CLIs would otherwise retry for minutes or open a browser login. (On macOS Claude Code keeps
 * its login in the keychain, which cannot be checked from here, so its check is skipped there.)
 */
export function assertCredentials(provider: AgentProvider): void {
  const { env, loginFile } = CREDENTIALS[provider];
  if (env.some((name) => Boolean(process.env[name]))) return;
  if (loginFile && existsSync(loginFile())) return;
  if (provider === "claude" && process.platform === "darwin") return;
  const identity = PROVIDERS[provider];
  throw new AsmError("provider_authentication_failed", `no ${identity.displayName} credentials found`, {
    details: { provider, checkedEnv: env, ...(loginFile ? { checkedFile: loginFile() } : {}) },
    hint: identity.loginHint,
  });
}

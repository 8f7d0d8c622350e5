import { AsmError } from "../core/errors.js";
import type { PermissionMode } from "../core/permission-mode.js";
import type { ProviderAdapter } from "../ports/provider-adapter.js";
import { assertCredentials } from "./credentials.js";

export interface ProviderChoice {
  cwd?: string;
  model?: string;
  permissionMode?: PermissionMode;
  /** Shell provider only: accept a prompt as one /bin/sh command line. */
  shell?: boolean;
}

type ProviderFactory = (choice: ProviderChoice) => Promise<ProviderAdapter>;

function agentOptions(choice: ProviderChoice) {
  return {
    ...(choice.cwd ? { cwd: choice.cwd } : {}),
    ...(choice.model ? { model: choice.model } : {}),
    ...(choice.permissionMode ? { permissionMode: choice.permissionMode } : {}),
  };
}

/** The providers the CLI can run, each loaded only when chosen. */
const PROVIDERS: Record<string, ProviderFactory> = {
  claude: async (choice) => {
    assertCredentials("claude");
    const { ClaudeAdapter } = await import("../providers/claude/index.js");
    return new ClaudeAdapter(agentOptions(choice));
  },
  codex: async (choice) => {
    assertCredentials("codex");
    const { CodexAdapter } = await import("../providers/codex/index.js");
    return new CodexAdapter(agentOptions(choice));
  },
  amp: async (choice) => {
    assertCredentials("amp");
    const { AmpAdapter } = await import("../providers/amp/index.js");
    return new AmpAdapter(agentOptions(choice));
  },
  shell: async (choice) => {
    if (choice.model || choice.permissionMode) {
      throw new AsmError("validation_error", "the shell provider takes no --model or --permission-mode", {
        hint: "drop those options, or choose an agent provider with --provider",
      });
    }
    const { ShellAdapter } = await import("../providers/shell/index.js");
    return new ShellAdapter({
      ...(choice.cwd ? { cwd: choice.cwd } : {}),
      allowShellString: choice.shell === true,
    });
  },
};

export const PROVIDER_NAMES = Object.keys(PROVIDERS);
export const DEFAULT_PROVIDER = "claude";

export function createProvider(name: string, choice: ProviderChoice): Promise<ProviderAdapter> {
  const factory = PROVIDERS[name];
  if (!factory) {
    throw new AsmError("provider_not_found", `unknown provider "${name}"`, {
      details: { provider: name, known: PROVIDER_NAMES },
      hint: `choose one of: ${PROVIDER_NAMES.join(", ")}`,
    });
  }
  return factory(choice);
}

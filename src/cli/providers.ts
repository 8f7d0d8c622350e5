import { AsmError } from "../core/errors.js";
import type { ProviderAdapter } from "../ports/provider-adapter.js";

export interface ProviderChoice {
  cwd?: string;
  /** Shell provider only: accept a prompt as one /bin/sh command line. */
  shell?: boolean;
}

type ProviderFactory = (choice: ProviderChoice) => Promise<ProviderAdapter>;

/** The providers the CLI can run, each loaded only when chosen. */
const PROVIDERS: Record<string, ProviderFactory> = {
  shell: async (choice) => {
    const { ShellAdapter } = await import("../providers/shell/index.js");
    return new ShellAdapter({
      ...(choice.cwd ? { cwd: choice.cwd } : {}),
      allowShellString: choice.shell === true,
    });
  },
};

export const PROVIDER_NAMES = Object.keys(PROVIDERS);

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

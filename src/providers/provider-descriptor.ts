import type { z } from "zod";
import type { Capability } from "../core/capabilities.js";
import type { ProviderAdapter } from "../ports/provider-adapter.js";

/** Environment variables as a check reads them: `process.env`, or a copy of it. */
export type EnvironmentVariables = Readonly<Record<string, string | undefined>>;

/**
 * Where a provider's CLI finds its credentials. A check passes when any variable of `env` is set
 * (non-empty), or the login file exists; it never reads either's content.
 */
export interface ProviderCredentials {
  /** Environment variables that each hold a credential on their own (an API key, a token, a cloud switch). */
  readonly env: readonly string[];
  /** The file the CLI's own login writes, located from `env` (e.g. `HOME`, `CLAUDE_CONFIG_DIR`). Default: none. */
  loginFile?(env: EnvironmentVariables): string;
  /**
   * Platforms where the login cannot be checked from here, so the check passes there (Claude
   * Code keeps its macOS login in the keychain). Default: none.
   */
  readonly uncheckableOn?: readonly NodeJS.Platform[];
  /** What a person can set or run when no credentials are found. */
  readonly hint: string;
}

/** Options every agent CLI face knows, by the name a CLI user types (`--executable`, `--max-turns`…). */
export const COMMON_CLI_OPTIONS = [
  "executable",
  "model",
  "permissionMode",
  "cwd",
  "systemPrompt",
  "maxTurns",
  "allowedTools",
  "deniedTools",
] as const;
export type CommonCliOption = (typeof COMMON_CLI_OPTIONS)[number];

/** How a command-line face offers a provider. */
export interface ProviderCliFace {
  /** What the command line's words are: a prompt (agents) or an argv command (shell). */
  readonly input: "prompt" | "command";
  /** The common options this provider honours; a face refuses the others for it. */
  readonly options: readonly CommonCliOption[];
  /**
   * Common options a CLI user can also set by environment variable, named
   * `ASM_<PROVIDER>_<OPTION>` (see `cliEnvironmentVariable`), e.g. `ASM_CLAUDE_EXECUTABLE`.
   * Each must be in `options`. A flag wins over its variable.
   */
  readonly env: readonly CommonCliOption[];
  /**
   * The adapter option that names the agent to run, for a provider that runs any agent given as
   * a command (ACP): the face's `--agent-command "<argv>"` sets it to the words, split without a
   * shell, or to a preset's name. Absent: the provider takes no `--agent-command`.
   */
  readonly agentCommandOption?: string;
}

/**
 * Everything the library knows about a provider without loading it: its identity, what it can
 * do, where its credentials are, the shape of its options, how a CLI offers it, and a factory.
 * A descriptor module must stay light: `create` imports the adapter (and through it any SDK)
 * only when called.
 *
 * `Options` are the adapter's constructor options, `RunOptions` its per-run options
 * (its namespace of `ExecuteRequest.providerOptions`).
 */
export interface ProviderDescriptor<Options extends object = object, RunOptions extends object = object> {
  /** The name runs and events store and `createAdapter` takes: lower-case, e.g. `codex`. */
  readonly name: string;
  /** For messages: `Codex CLI`. */
  readonly displayName: string;
  /** The adapter's static capabilities (the same array its instances report). */
  readonly capabilities: readonly Capability[];
  /** Where its credentials are; absent when it needs none (the shell provider). */
  readonly credentials?: ProviderCredentials;
  /** The constructor options' schema. The adapter validates them again, with its cross-field rules. */
  readonly optionsSchema: z.ZodType<Options>;
  /** The per-run options' schema. */
  readonly runOptionsSchema: z.ZodType<RunOptions>;
  readonly cli: ProviderCliFace;
  /** Loads the adapter module and constructs an adapter. Rejects as the constructor throws. */
  create(options: Options): Promise<ProviderAdapter>;
}

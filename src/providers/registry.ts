import { existsSync } from "node:fs";
import { AsmError } from "../core/errors.js";
import type { ProviderAdapter } from "../ports/provider-adapter.js";
import { acpProvider } from "./acp/descriptor.js";
import { ampProvider } from "./amp/descriptor.js";
import { claudeProvider } from "./claude/descriptor.js";
import { codexProvider } from "./codex/descriptor.js";
import { geminiProvider } from "./gemini/descriptor.js";
import type { EnvironmentVariables, ProviderDescriptor } from "./provider-descriptor.js";
import { shellProvider } from "./shell/descriptor.js";

/**
 * The providers this package ships, by name. Adding one is its folder (with its `descriptor.ts`)
 * and a line here. Each descriptor is light: an adapter and its SDK load when one is created.
 */
const BUILT_IN_PROVIDERS = {
  claude: claudeProvider,
  codex: codexProvider,
  amp: ampProvider,
  gemini: geminiProvider,
  acp: acpProvider,
  shell: shellProvider,
} as const;

type BuiltInProviders = typeof BUILT_IN_PROVIDERS;
export type BuiltInProviderName = keyof BuiltInProviders;

/** The constructor options of each built-in provider's adapter, e.g. `BuiltInProviderOptions["codex"]`. */
export type BuiltInProviderOptions = {
  [Name in BuiltInProviderName]: BuiltInProviders[Name] extends ProviderDescriptor<infer Options, object>
    ? Options
    : never;
};

/** The options `createAdapter(name, …)` takes: the built-in provider's own, or any object for a custom one. */
export type AdapterOptionsFor<Name extends string> = Name extends BuiltInProviderName
  ? BuiltInProviderOptions[Name]
  : object;

/** What `checkCredentials` looks at. */
export interface CredentialsCheckInput {
  /** The environment the provider's CLI will see. Default `process.env`. */
  env?: EnvironmentVariables;
  /**
   * The executable the adapter will run, when one is given explicitly. It answers for its own
   * login (a wrapper, a scripted CLI, a CLI logged in elsewhere), so the check passes. Default none.
   */
  executablePath?: string;
  /** Default `process.platform`. */
  platform?: NodeJS.Platform;
}

/** Why a provider may start (`ok: true`), or the error to report before anything starts. */
export type CredentialsCheck =
  | { ok: true; source: "env"; variable: string }
  | { ok: true; source: "login_file"; path: string }
  /** An explicit executable answers for its own login. */
  | { ok: true; source: "executable" }
  /** The login cannot be checked on this platform (Claude Code's macOS keychain). */
  | { ok: true; source: "unverifiable" }
  /** The provider needs no credentials (the shell provider). */
  | { ok: true; source: "none_required" }
  | { ok: false; error: AsmError };

/** Lower-case, as stored on runs and turned into environment variable names (`ASM_<NAME>_…`). */
const PROVIDER_NAME = /^[a-z][a-z0-9_-]{0,62}$/;

/**
 * Providers by name: the faces (CLI, server) create adapters and check credentials through it
 * instead of their own switch statements. `providerRegistry` holds the built-in providers;
 * `new ProviderRegistry([...])` makes an isolated one.
 */
export class ProviderRegistry {
  readonly #descriptors = new Map<string, ProviderDescriptor>();

  /** Default: the built-in providers (`claude`, `codex`, `amp`, `gemini`, `acp`, `shell`). */
  constructor(descriptors: Iterable<ProviderDescriptor> = Object.values(BUILT_IN_PROVIDERS)) {
    for (const descriptor of descriptors) this.register(descriptor);
  }

  /**
   * Adds a provider. Throws `already_exists` for a name already registered, `validation_error`
   * for a malformed descriptor.
   */
  register<Options extends object, RunOptions extends object>(
    descriptor: ProviderDescriptor<Options, RunOptions>,
  ): void {
    checkDescriptor(descriptor);
    if (this.#descriptors.has(descriptor.name)) {
      throw new AsmError("already_exists", `a provider named "${descriptor.name}" is already registered`, {
        details: { provider: descriptor.name },
        hint: "register the custom provider under another name",
      });
    }
    this.#descriptors.set(descriptor.name, descriptor);
  }

  /** The descriptor of `name`. Throws `provider_not_found`, naming the known providers. */
  get(name: string): ProviderDescriptor {
    const descriptor = this.#descriptors.get(name);
    if (descriptor === undefined) {
      const known = this.names();
      throw new AsmError("provider_not_found", `unknown provider "${name}"`, {
        details: { provider: name, known },
        hint: `choose one of: ${known.join(", ")}`,
      });
    }
    return descriptor;
  }

  /** Every registered provider, in registration order (built-in ones first). */
  list(): ProviderDescriptor[] {
    return [...this.#descriptors.values()];
  }

  names(): string[] {
    return [...this.#descriptors.keys()];
  }

  /**
   * Creates an adapter of the provider `name`, loading its module (and SDK) on first use.
   * Throws `provider_not_found` for an unknown name; rejects as the adapter's constructor does
   * (`validation_error` for bad options). It checks no credentials: see `checkCredentials`.
   */
  async createAdapter<Name extends string>(
    name: Name,
    options?: AdapterOptionsFor<Name>,
  ): Promise<ProviderAdapter> {
    return this.get(name).create(options ?? {});
  }

  /**
   * Whether the provider will find credentials, without starting it: any of its variables set
   * in `env`, or its CLI's login file present. Meant for faces, to fail fast before anything is
   * spawned or stored (a CLI without credentials retries for minutes or opens a browser login).
   * An explicit executable passes: it answers for its own login. Throws `provider_not_found`.
   */
  checkCredentials(name: string, input: CredentialsCheckInput = {}): CredentialsCheck {
    const { credentials, displayName } = this.get(name);
    if (credentials === undefined) return { ok: true, source: "none_required" };
    if (input.executablePath) return { ok: true, source: "executable" };
    const env = input.env ?? process.env;
    const variable = credentials.env.find((key) => Boolean(env[key]));
    if (variable !== undefined) return { ok: true, source: "env", variable };
    const loginFile = credentials.loginFile?.(env);
    if (loginFile !== undefined && existsSync(loginFile))
      return { ok: true, source: "login_file", path: loginFile };
    if (credentials.uncheckableOn?.includes(input.platform ?? process.platform)) {
      return { ok: true, source: "unverifiable" };
    }
    return {
      ok: false,
      error: new AsmError("provider_authentication_failed", `no ${displayName} credentials found`, {
        details: {
          provider: name,
          checkedEnv: [...credentials.env],
          ...(loginFile !== undefined ? { checkedFile: loginFile } : {}),
        },
        hint: credentials.hint,
      }),
    };
  }
}

function checkDescriptor(descriptor: ProviderDescriptor<object, object>): void {
  const problems: string[] = [];
  if (typeof descriptor.name !== "string" || !PROVIDER_NAME.test(descriptor.name)) {
    problems.push("name must be lower-case letters, digits, '-' or '_', starting with a letter");
  }
  if (typeof descriptor.displayName !== "string" || descriptor.displayName === "") {
    problems.push("displayName must be a non-empty string");
  }
  if (typeof descriptor.create !== "function") problems.push("create must be a function");
  const notOffered = (descriptor.cli?.env ?? []).filter((option) => !descriptor.cli.options.includes(option));
  if (notOffered.length > 0)
    problems.push(`cli.env names options not in cli.options: ${notOffered.join(", ")}`);
  if (problems.length > 0) {
    throw new AsmError("validation_error", `invalid provider descriptor: ${problems.join("; ")}`, {
      details: { provider: String(descriptor.name), problems },
    });
  }
}

/** The registry of the built-in providers, which `registerProvider` adds to. */
export const providerRegistry = new ProviderRegistry();

/**
 * Creates an adapter by provider name, e.g. `createAdapter("codex", { model: "gpt-5" })`.
 * See `ProviderRegistry.createAdapter`.
 */
export function createAdapter<Name extends string>(
  name: Name,
  options?: AdapterOptionsFor<Name>,
): Promise<ProviderAdapter> {
  return providerRegistry.createAdapter(name, options);
}

/** Adds a custom provider to `providerRegistry`. See `ProviderRegistry.register`. */
export function registerProvider<Options extends object, RunOptions extends object>(
  descriptor: ProviderDescriptor<Options, RunOptions>,
): void {
  providerRegistry.register(descriptor);
}

/** The descriptor of a provider of `providerRegistry`. Throws `provider_not_found`. */
export function getProvider(name: string): ProviderDescriptor {
  return providerRegistry.get(name);
}

/** The providers of `providerRegistry`, built-in ones first. */
export function listProviders(): ProviderDescriptor[] {
  return providerRegistry.list();
}

/** See `ProviderRegistry.checkCredentials`. */
export function checkCredentials(name: string, input?: CredentialsCheckInput): CredentialsCheck {
  return providerRegistry.checkCredentials(name, input);
}

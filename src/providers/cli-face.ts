import { z } from "zod";
import { AsmError } from "../core/errors.js";
import { invalidInput } from "../core/validation.js";
import type { CommonCliOption, EnvironmentVariables, ProviderDescriptor } from "./provider-descriptor.js";

/** The adapter option each common CLI option sets. */
const ADAPTER_OPTION = {
  executable: "executablePath",
  model: "model",
  permissionMode: "permissionMode",
  cwd: "cwd",
  systemPrompt: "systemPrompt",
  maxTurns: "maxTurns",
  allowedTools: "allowedTools",
  deniedTools: "deniedTools",
} as const satisfies Record<CommonCliOption, string>;

/** Adapter options no `--provider-option` sets: the environment is the shell's, and nesting is ours. */
const NOT_A_PROVIDER_OPTION: Readonly<Record<string, string>> = {
  env: "set environment variables in the shell that runs the command",
  providerOptions: "give each of its keys as its own --provider-option key=value",
};

const words = (option: string): string[] => option.split(/(?=[A-Z])/).map((word) => word.toLowerCase());

/** The flag of a common option: `maxTurns` → `--max-turns`. */
export function cliFlag(option: CommonCliOption): string {
  return `--${words(option).join("-")}`;
}

/** The environment variable of a provider's common option: (`claude`, `executable`) → `ASM_CLAUDE_EXECUTABLE`. */
export function cliEnvironmentVariable(provider: string, option: CommonCliOption): string {
  return ["ASM", provider.replaceAll("-", "_"), ...words(option)].join("_").toUpperCase();
}

/** What a command line chose for a provider, as typed. */
export interface CliProviderInput {
  /**
   * Common options by name, as text (`maxTurns: "5"`); list options (`allowedTools`) take
   * comma-separated text or the items. Default none.
   */
  options?: Partial<Record<CommonCliOption, string | readonly string[]>>;
  /** `--provider-option key=value` entries, in order; each key at most once. Default none. */
  providerOptions?: readonly string[];
  /** Where `ASM_<PROVIDER>_<OPTION>` variables are read (a flag wins over its variable). Default `process.env`. */
  env?: EnvironmentVariables;
}

/** Adapter options built from a command line; the adapter validates them as a whole when created. */
export type CliAdapterOptions = { readonly [key: string]: unknown; readonly executablePath?: string };

/** The keys `--provider-option` takes for a provider. */
export interface ProviderOptionKeys {
  /** Adapter options of its own (`baseUrl`, `mode`, `timeoutMs`…) and the keys of its typed `providerOptions`. */
  keys: string[];
  /** Whether any other key passes through to the provider as it is (Claude's SDK options). */
  passThrough: boolean;
}

function unwrap(schema: z.ZodType): z.ZodType {
  let inner = schema;
  while (inner instanceof z.ZodOptional || inner instanceof z.ZodNullable || inner instanceof z.ZodDefault) {
    inner = inner.unwrap() as z.ZodType;
  }
  return inner;
}

function shapeOf(schema: z.ZodType | undefined): Readonly<Record<string, z.ZodType>> {
  const inner = schema === undefined ? undefined : unwrap(schema);
  return inner instanceof z.ZodObject ? (inner.shape as Record<string, z.ZodType>) : {};
}

/** Where `--provider-option` keys go: top-level adapter options, or inside `providerOptions`. */
interface OptionLayout {
  topLevel: Readonly<Record<string, z.ZodType>>;
  nested: Readonly<Record<string, z.ZodType>>;
  /** The value schema of a free-form `providerOptions` record, when it is one. */
  passThrough: z.ZodType | undefined;
}

function layoutOf(descriptor: ProviderDescriptor): OptionLayout {
  const shape = shapeOf(descriptor.optionsSchema);
  const common = new Set<string>(Object.values(ADAPTER_OPTION));
  const topLevel = Object.fromEntries(
    Object.entries(shape).filter(([key]) => !common.has(key) && !(key in NOT_A_PROVIDER_OPTION)),
  );
  const providerOptions = shape.providerOptions === undefined ? undefined : unwrap(shape.providerOptions);
  return {
    topLevel,
    nested: shapeOf(providerOptions),
    passThrough:
      providerOptions instanceof z.ZodRecord ? (providerOptions.valueType as z.ZodType) : undefined,
  };
}

/** The keys `--provider-option` takes for `descriptor`, for help texts and error hints. */
export function providerOptionKeys(descriptor: ProviderDescriptor): ProviderOptionKeys {
  const layout = layoutOf(descriptor);
  return {
    keys: [...new Set([...Object.keys(layout.topLevel), ...Object.keys(layout.nested)])],
    passThrough: layout.passThrough !== undefined,
  };
}

/**
 * Turns text into the value `schema` expects: `true`/`false` for booleans, numbers, comma-separated
 * lists; for objects, records and unions, JSON when the text parses as JSON, else the text.
 */
function fromText(schema: z.ZodType, raw: string | readonly string[]): unknown {
  const inner = unwrap(schema);
  if (typeof raw !== "string") {
    const element = inner instanceof z.ZodArray ? (inner.element as z.ZodType) : undefined;
    return element === undefined ? raw : raw.map((item) => fromText(element, item));
  }
  if (inner instanceof z.ZodBoolean) return raw === "true" ? true : raw === "false" ? false : raw;
  if (inner instanceof z.ZodNumber) {
    const number = Number(raw);
    return raw.trim() !== "" && Number.isFinite(number) ? number : raw;
  }
  if (inner instanceof z.ZodString || inner instanceof z.ZodEnum || inner instanceof z.ZodLiteral) return raw;
  if (inner instanceof z.ZodArray) {
    const items = raw
      .split(",")
      .map((item) => item.trim())
      .filter((item) => item !== "");
    return items.map((item) => fromText(inner.element as z.ZodType, item));
  }
  try {
    return JSON.parse(raw);
  } catch {
    return raw;
  }
}

/** The value of `raw` for `schema`, checked; `source` names where it came from in errors. */
function valueFor(schema: z.ZodType, raw: string | readonly string[], source: string): unknown {
  const parsed = schema.safeParse(fromText(schema, raw));
  if (!parsed.success) throw invalidInput(source, parsed.error);
  return parsed.data;
}

function invalid(message: string, details: Record<string, unknown>, hint?: string): never {
  throw new AsmError("validation_error", message, { details, ...(hint ? { hint } : {}) });
}

function keyHint(descriptor: ProviderDescriptor): string {
  const { keys, passThrough } = providerOptionKeys(descriptor);
  if (keys.length === 0 && !passThrough) return `the ${descriptor.name} provider takes no --provider-option`;
  const listed = keys.length > 0 ? `keys for ${descriptor.name}: ${keys.join(", ")}` : "";
  const rest = passThrough ? `any other key passes through to ${descriptor.displayName} as it is` : "";
  return [listed, rest].filter(Boolean).join("; ");
}

function splitPair(entry: string): [string, string] {
  const at = entry.indexOf("=");
  if (at <= 0) {
    invalid(
      `--provider-option expects key=value, got "${entry}"`,
      { entry },
      "e.g. --provider-option skipGitRepoCheck=true",
    );
  }
  return [entry.slice(0, at), entry.slice(at + 1)];
}

function commonChoices(
  descriptor: ProviderDescriptor,
  input: CliProviderInput,
): Map<CommonCliOption, { raw: string | readonly string[]; source: string }> {
  const { name, cli } = descriptor;
  const chosen = new Map<CommonCliOption, { raw: string | readonly string[]; source: string }>();
  const refused: CommonCliOption[] = [];
  for (const [option, raw] of Object.entries(input.options ?? {}) as [
    CommonCliOption,
    string | readonly string[] | undefined,
  ][]) {
    if (raw === undefined) continue;
    if (!cli.options.includes(option)) refused.push(option);
    else chosen.set(option, { raw, source: cliFlag(option) });
  }
  if (refused.length > 0) {
    const offered = cli.options.map(cliFlag);
    invalid(
      `the ${name} provider takes no ${refused.map(cliFlag).join(" or ")}`,
      { provider: name, refused: refused.map(cliFlag), offered },
      offered.length > 0
        ? `options for ${name}: ${offered.join(", ")}`
        : `drop ${refused.map(cliFlag).join(" and ")}`,
    );
  }
  const env = input.env ?? process.env;
  for (const option of cli.env) {
    const variable = cliEnvironmentVariable(name, option);
    const raw = env[variable];
    if (!chosen.has(option) && raw) chosen.set(option, { raw, source: variable });
  }
  return chosen;
}

/**
 * The adapter options a command line asks for: the common options (or their `ASM_<PROVIDER>_…`
 * variables) the provider honours, and `--provider-option key=value` entries. A key names one of
 * the provider's own adapter options (e.g. Amp's `mode`, Codex's `baseUrl`) or a key of its
 * `providerOptions` (e.g. Codex's `skipGitRepoCheck`), found by name; values are read as the
 * option's type (`true`/`false`, numbers, comma-separated lists, JSON for objects).
 *
 * Throws `validation_error`, naming the flag, variable or key, for a common option the provider
 * does not take, an unknown or repeated key, a malformed entry, or a value of the wrong type.
 * Rules between options are the adapter's, checked when it is created.
 */
export function cliAdapterOptions(
  descriptor: ProviderDescriptor,
  input: CliProviderInput = {},
): CliAdapterOptions {
  const shape = shapeOf(descriptor.optionsSchema);
  const options: Record<string, unknown> = {};
  for (const [option, { raw, source }] of commonChoices(descriptor, input)) {
    const key = ADAPTER_OPTION[option];
    const schema = shape[key];
    options[key] = schema === undefined ? raw : valueFor(schema, raw, source);
  }
  const layout = layoutOf(descriptor);
  const nested: Record<string, unknown> = {};
  const seen = new Set<string>();
  for (const entry of input.providerOptions ?? []) {
    const [key, raw] = splitPair(entry);
    const source = `--provider-option ${key}`;
    if (seen.has(key)) invalid(`${source} is given more than once`, { key });
    seen.add(key);
    const common = (Object.keys(ADAPTER_OPTION) as CommonCliOption[]).find(
      (option) => ADAPTER_OPTION[option] === key,
    );
    if (common !== undefined) {
      invalid(`${key} is not a provider option`, { key }, `use ${cliFlag(common)}`);
    }
    const notHere = NOT_A_PROVIDER_OPTION[key];
    if (notHere !== undefined) invalid(`${key} cannot be set with --provider-option`, { key }, notHere);
    const topLevel = layout.topLevel[key];
    const inside = layout.nested[key] ?? layout.passThrough;
    if (topLevel !== undefined) options[key] = valueFor(topLevel, raw, source);
    else if (inside !== undefined) nested[key] = valueFor(inside, raw, source);
    else {
      invalid(
        `unknown provider option "${key}" for ${descriptor.name}`,
        { provider: descriptor.name, key },
        keyHint(descriptor),
      );
    }
  }
  if (Object.keys(nested).length > 0) options.providerOptions = nested;
  return options;
}

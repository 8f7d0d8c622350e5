import { mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import type { Capability } from "../core/capabilities.js";
import type { AsmError } from "../core/errors.js";
import type { ProviderAdapter } from "../ports/provider-adapter.js";
import { PROVIDER_ADAPTER_SPECIFICATION } from "../ports/provider-adapter.js";
import { rejection } from "../stores/test-support/fixtures.js";
import { scriptedCliEnv, scriptedCliPath } from "../testing/scripted-cli/index.js";
import { AmpAdapter } from "./amp/amp-adapter.js";
import { ClaudeAdapter } from "./claude/claude-adapter.js";
import { CodexAdapter } from "./codex/codex-adapter.js";
import type { ProviderDescriptor } from "./provider-descriptor.js";
import {
  checkCredentials,
  createAdapter,
  getProvider,
  listProviders,
  ProviderRegistry,
  providerRegistry,
  registerProvider,
} from "./registry.js";
import { PROVIDERS } from "./shared/provider-failures.js";
import { ShellAdapter } from "./shell/shell-adapter.js";
import { loadedModules } from "./test-support/loaded-modules.js";
import { run, succeeds, tempWorkDir } from "./test-support/scripted-adapter.js";

const workDir = tempWorkDir("asm-registry-test-");

/** The AsmError `action` throws. */
const thrown = (action: () => unknown): Promise<AsmError> => rejection(Promise.resolve().then(action));
const transcript = (provider: string, name: string): string =>
  fileURLToPath(new URL(`./${provider}/transcripts/${name}.jsonl`, import.meta.url));

describe("built-in providers", () => {
  it("lists claude, codex, amp, gemini, acp and shell, each descriptor naming what its adapters report", async () => {
    expect(listProviders().map((descriptor) => descriptor.name)).toEqual([
      "claude",
      "codex",
      "amp",
      "gemini",
      "acp",
      "shell",
    ]);
    const agents = { claude: PROVIDERS.claude, codex: PROVIDERS.codex, amp: PROVIDERS.amp };
    for (const [name, identity] of Object.entries(agents)) {
      expect(getProvider(name).displayName).toBe(identity.displayName);
      expect(getProvider(name).credentials?.hint).toBe(identity.loginHint);
    }
    expect(getProvider("shell").credentials).toBeUndefined();
    for (const descriptor of listProviders()) {
      // The env variables a CLI user may set must name options the CLI offers for the provider.
      for (const option of descriptor.cli.env) expect(descriptor.cli.options).toContain(option);
    }
  });

  it("creates each built-in adapter by name, with its options reaching the constructor", async () => {
    const options = { cwd: workDir, executablePath: "/opt/agents/bin/agent" };
    const created: Record<string, ProviderAdapter> = {
      claude: await createAdapter("claude", { ...options, model: "claude-sonnet-4-5", maxTurns: 3 }),
      codex: await createAdapter("codex", { ...options, providerOptions: { skipGitRepoCheck: true } }),
      amp: await createAdapter("amp", { ...options, mode: "rush" }),
      shell: await createAdapter("shell", { cwd: workDir, timeoutMs: 5000 }),
    };
    expect(created.claude).toBeInstanceOf(ClaudeAdapter);
    expect(created.codex).toBeInstanceOf(CodexAdapter);
    expect(created.amp).toBeInstanceOf(AmpAdapter);
    expect(created.shell).toBeInstanceOf(ShellAdapter);
    for (const [name, adapter] of Object.entries(created)) {
      expect(adapter.name).toBe(name);
      // One home for capabilities: the adapter reports the descriptor's own array.
      expect(adapter.capabilities).toBe(getProvider(name).capabilities);
    }
  });

  it("rejects options the adapter refuses, with the adapter's validation_error", async () => {
    const claude = await rejection(createAdapter("claude", { maxTurns: -1 }));
    expect(claude.code).toBe("validation_error");
    expect(claude.message).toContain("maxTurns");
    const amp = await rejection(createAdapter("amp", { model: "gpt" }));
    expect(amp.code).toBe("validation_error");
    expect(amp.details).toEqual({ provider: "amp", option: "model" });
    const codex = await rejection(createAdapter("codex", { maxTurns: 2 }));
    expect(codex.code).toBe("capability_not_supported");
    const shell = await rejection(createAdapter("shell", { cwd: path.join(workDir, "missing") }));
    expect(shell.code).toBe("validation_error");
    // Typed options for a built-in name: a key of another provider is a compile error.
    // @ts-expect-error `mode` is Amp's, not Claude's
    const typed = await rejection(createAdapter("claude", { mode: "rush" }));
    expect(typed.code).toBe("validation_error");
  });

  it("runs each agent adapter made by name on its scripted CLI", async () => {
    const cases = [
      { name: "claude", scenario: transcript("claude", "text"), text: "Hello from Claude", env: {} },
      { name: "codex", scenario: transcript("codex", "text"), text: "Hello from Codex", env: {} },
      {
        name: "amp",
        scenario: transcript("amp", "success"),
        text: "3 + 5 = 8",
        env: { AMP_API_KEY: "sk-test" },
      },
    ] as const;
    for (const { name, scenario, text, env } of cases) {
      const adapter = await providerRegistry.createAdapter(name, {
        executablePath: scriptedCliPath(name),
        cwd: workDir,
        env: { ...env, ...scriptedCliEnv({ scenario }) },
      });
      const { result, sink } = await succeeds(run(adapter, { prompt: "What is 3 + 5? Say hello." }));
      expect(result.output.content, name).toContain(text);
      expect(sink.events[0]?.type).toBe("run_started");
    }
  });

  it("runs a shell command through an adapter made by name", async () => {
    const adapter = await createAdapter("shell", { cwd: workDir });
    const { result } = await succeeds(run(adapter, { command: ["echo", "from the registry"] }));
    expect(result.output.content).toBe("from the registry\n");
  });
});

describe("unknown providers", () => {
  it("are provider_not_found, naming the known providers", async () => {
    const error = await rejection(createAdapter("opencode", {}));
    expect(error.code).toBe("provider_not_found");
    expect(error.details).toEqual({
      provider: "opencode",
      known: ["claude", "codex", "amp", "gemini", "acp", "shell"],
    });
    expect(error.hint).toBe("choose one of: claude, codex, amp, gemini, acp, shell");
    expect((await thrown(() => getProvider("Claude"))).code).toBe("provider_not_found");
    expect((await thrown(() => checkCredentials("opencode"))).code).toBe("provider_not_found");
  });
});

/** A provider made of a function: echoes its prompt with the options it was created with. */
interface EchoOptions {
  prefix: string;
}

function echoDescriptor(name: string, created: EchoOptions[] = []): ProviderDescriptor<EchoOptions> {
  const capabilities: readonly Capability[] = [{ name: "streaming", type: "sampling" }];
  return {
    name,
    displayName: "Echo",
    capabilities,
    optionsSchema: {} as ProviderDescriptor<EchoOptions>["optionsSchema"],
    runOptionsSchema: {} as ProviderDescriptor<EchoOptions>["runOptionsSchema"],
    cli: { input: "prompt", options: [], env: [] },
    async create(options) {
      created.push(options);
      return {
        specificationVersion: PROVIDER_ADAPTER_SPECIFICATION,
        name,
        capabilities,
        async execute(request, sink) {
          sink.emit({ type: "run_started", data: {} });
          return { output: { content: `${options.prefix}${request.run.input.prompt ?? ""}` } };
        },
        async cancel() {
          return false;
        },
      };
    },
  };
}

describe("custom providers", () => {
  it("are created by name once registered, with the options given", async () => {
    const created: EchoOptions[] = [];
    const registry = new ProviderRegistry();
    registry.register(echoDescriptor("echo", created));
    expect(registry.names()).toEqual(["claude", "codex", "amp", "gemini", "acp", "shell", "echo"]);
    const adapter = await registry.createAdapter("echo", { prefix: "echo: " });
    expect(created).toEqual([{ prefix: "echo: " }]);
    const { result } = await succeeds(run(adapter, { prompt: "hi" }));
    expect(result.output.content).toBe("echo: hi");
    // Registries are separate: the default one does not know it.
    expect((await thrown(() => getProvider("echo"))).code).toBe("provider_not_found");
  });

  it("join the default registry through registerProvider", async () => {
    registerProvider(echoDescriptor("echo-default"));
    expect(listProviders().at(-1)?.name).toBe("echo-default");
    const adapter = await createAdapter("echo-default", { prefix: ">" });
    expect((await succeeds(run(adapter, { prompt: "x" }))).result.output.content).toBe(">x");
    expect(checkCredentials("echo-default")).toEqual({ ok: true, source: "none_required" });
  });

  it("cannot take a registered name", async () => {
    const registry = new ProviderRegistry();
    registry.register(echoDescriptor("echo"));
    const again = await thrown(() => registry.register(echoDescriptor("echo")));
    expect(again.code).toBe("already_exists");
    expect(again.details).toEqual({ provider: "echo" });
    expect((await thrown(() => registry.register(echoDescriptor("claude")))).code).toBe("already_exists");
    expect(registry.names()).toEqual(["claude", "codex", "amp", "gemini", "acp", "shell", "echo"]);
  });

  it("are refused with a malformed descriptor", async () => {
    const registry = new ProviderRegistry([]);
    for (const name of ["", "Echo", "echo agent", "1echo"]) {
      expect((await thrown(() => registry.register(echoDescriptor(name)))).code, name).toBe(
        "validation_error",
      );
    }
    const envNotOffered = {
      ...echoDescriptor("echo"),
      cli: { input: "prompt", options: [], env: ["model"] },
    } as const;
    const error = await thrown(() => registry.register(envNotOffered));
    expect(error.code).toBe("validation_error");
    expect(error.message).toContain("cli.env names options not in cli.options: model");
    expect(registry.names()).toEqual([]);
  });
});

describe("checkCredentials", () => {
  // A home of its own: the real one's login files must not decide these tests.
  const home = (label: string): string => {
    const dir = path.join(workDir, `home-${label}`);
    mkdirSync(dir, { recursive: true });
    return dir;
  };
  const linux = "linux" as const;

  it("passes on any credential variable, and says which", () => {
    const env = { HOME: home("env"), CLAUDE_CODE_OAUTH_TOKEN: "token" };
    expect(checkCredentials("claude", { env, platform: linux })).toEqual({
      ok: true,
      source: "env",
      variable: "CLAUDE_CODE_OAUTH_TOKEN",
    });
    expect(checkCredentials("codex", { env: { HOME: env.HOME, OPENAI_API_KEY: "sk" } })).toEqual({
      ok: true,
      source: "env",
      variable: "OPENAI_API_KEY",
    });
    expect(checkCredentials("amp", { env: { AMP_API_KEY: "key" } })).toMatchObject({
      ok: true,
      source: "env",
    });
  });

  it("blocks without credentials, naming what was checked and what to set", () => {
    const HOME = home("none");
    // An empty variable is no credential.
    const check = checkCredentials("claude", { env: { HOME, ANTHROPIC_API_KEY: "" }, platform: linux });
    if (check.ok) throw new Error("expected the check to fail");
    expect(check.error.code).toBe("provider_authentication_failed");
    expect(check.error.message).toBe("no Claude Code credentials found");
    expect(check.error.hint).toBe(PROVIDERS.claude.loginHint);
    expect(check.error.details).toEqual({
      provider: "claude",
      checkedEnv: [
        "ANTHROPIC_API_KEY",
        "ANTHROPIC_AUTH_TOKEN",
        "CLAUDE_CODE_OAUTH_TOKEN",
        "CLAUDE_CODE_USE_BEDROCK",
        "CLAUDE_CODE_USE_VERTEX",
      ],
      checkedFile: path.join(HOME, ".claude", ".credentials.json"),
    });
    const codex = checkCredentials("codex", { env: { HOME } });
    expect(codex.ok ? undefined : codex.error.details.checkedFile).toBe(
      path.join(HOME, ".codex", "auth.json"),
    );
    const amp = checkCredentials("amp", { env: { HOME } });
    expect(amp.ok ? undefined : amp.error.hint).toBe(PROVIDERS.amp.loginHint);
    expect(amp.ok ? undefined : amp.error.details).toEqual({ provider: "amp", checkedEnv: ["AMP_API_KEY"] });
  });

  it("passes on the CLI's login file, where its config directory variable says", () => {
    const HOME = home("login");
    mkdirSync(path.join(HOME, ".codex"));
    writeFileSync(path.join(HOME, ".codex", "auth.json"), "{}");
    expect(checkCredentials("codex", { env: { HOME } })).toEqual({
      ok: true,
      source: "login_file",
      path: path.join(HOME, ".codex", "auth.json"),
    });
    const configDir = path.join(HOME, "claude-config");
    mkdirSync(configDir);
    writeFileSync(path.join(configDir, ".credentials.json"), "{}");
    expect(checkCredentials("claude", { env: { HOME }, platform: linux }).ok).toBe(false);
    expect(
      checkCredentials("claude", { env: { HOME, CLAUDE_CONFIG_DIR: configDir }, platform: linux }),
    ).toEqual({
      ok: true,
      source: "login_file",
      path: path.join(configDir, ".credentials.json"),
    });
  });

  it("does not block an explicit executable: it answers for its own login", () => {
    const env = { HOME: home("executable") };
    for (const name of ["claude", "codex", "amp"]) {
      expect(checkCredentials(name, { env, platform: linux }).ok, name).toBe(false);
      expect(
        checkCredentials(name, { env, platform: linux, executablePath: "/opt/fake/agent" }),
        name,
      ).toEqual({
        ok: true,
        source: "executable",
      });
    }
  });

  it("cannot check Claude Code's macOS keychain login, so passes there (only for Claude)", () => {
    const env = { HOME: home("darwin") };
    expect(checkCredentials("claude", { env, platform: "darwin" })).toEqual({
      ok: true,
      source: "unverifiable",
    });
    expect(checkCredentials("codex", { env, platform: "darwin" }).ok).toBe(false);
  });

  it("needs nothing for the shell provider", () => {
    expect(checkCredentials("shell", { env: {} })).toEqual({ ok: true, source: "none_required" });
  });
});

describe("loading", () => {
  // An adapter module is heavy (its SDK loader, spawner and mapper); the ports module is not.
  const heavy = /claude-agent-sdk|codex-sdk|better-sqlite3|\/pg\/|\/providers\/\w+\/\w+-adapter\.ts$/;

  it("the registry loads no adapter and no SDK until an adapter is created", async () => {
    const atImport = await loadedModules("../registry.ts");
    expect(atImport).toContain(new URL("./claude/descriptor.ts", import.meta.url).href);
    expect(atImport.filter((url) => heavy.test(url))).toEqual([]);
    // The recorder sees lazy imports: creating adapters loads their modules — but still no SDK,
    // which loads when a run starts.
    const afterCreate = await loadedModules(
      "../registry.ts",
      "create:shell",
      "create:claude",
      "create:codex",
    );
    expect(afterCreate.filter((url) => heavy.test(url)).map((url) => path.basename(url))).toEqual([
      "shell-adapter.ts",
      "claude-adapter.ts",
      "codex-adapter.ts",
    ]);
  });

  it("the root entry, which exports the registry and openStore, loads no adapter, SDK or database driver", async () => {
    const urls = await loadedModules("../../index.ts");
    expect(urls).toContain(new URL("./registry.ts", import.meta.url).href);
    expect(urls).toContain(new URL("../stores/open-store.ts", import.meta.url).href);
    const drivers =
      /claude-agent-sdk|codex-sdk|better-sqlite3|node_modules\/(pg|kysely)\/|providers\/\w+\/\w+-adapter\.ts$/;
    expect(urls.filter((url) => drivers.test(url))).toEqual([]);
  });
});

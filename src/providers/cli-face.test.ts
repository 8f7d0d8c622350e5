import { describe, expect, it } from "vitest";
import type { AsmError } from "../core/errors.js";
import { rejection } from "../stores/test-support/fixtures.js";
import { cliAdapterOptions, cliEnvironmentVariable, cliFlag, providerOptionKeys } from "./cli-face.js";
import { COMMON_CLI_OPTIONS } from "./provider-descriptor.js";
import { createAdapter, getProvider } from "./registry.js";
import { PROVIDERS } from "./shared/provider-failures.js";
import { tempWorkDir } from "./test-support/scripted-adapter.js";

const workDir = tempWorkDir("asm-cli-face-test-");

/** The AsmError `action` throws. */
const thrown = (action: () => unknown): Promise<AsmError> => rejection(Promise.resolve().then(action));
const NO_ENV = {};

describe("names a CLI user types", () => {
  it("flags and environment variables follow the option names", () => {
    expect(COMMON_CLI_OPTIONS.map(cliFlag)).toEqual([
      "--executable",
      "--model",
      "--permission-mode",
      "--cwd",
      "--system-prompt",
      "--max-turns",
      "--allowed-tools",
      "--denied-tools",
    ]);
    expect(cliEnvironmentVariable("claude", "executable")).toBe("ASM_CLAUDE_EXECUTABLE");
    expect(cliEnvironmentVariable("codex", "model")).toBe("ASM_CODEX_MODEL");
    expect(cliEnvironmentVariable("my-agent", "permissionMode")).toBe("ASM_MY_AGENT_PERMISSION_MODE");
  });

  it("install hints name the executable's flag and variable", () => {
    for (const name of ["claude", "codex", "amp"] as const) {
      expect(PROVIDERS[name].installHint).toContain(
        `--executable or ${cliEnvironmentVariable(name, "executable")}`,
      );
      expect(getProvider(name).cli.env).toContain("executable");
    }
  });

  it("lists the keys --provider-option takes", () => {
    expect(providerOptionKeys(getProvider("codex"))).toEqual({
      keys: [
        "baseUrl",
        "killGraceMs",
        "maxLineBytes",
        "sandboxMode",
        "approvalPolicy",
        "modelReasoningEffort",
        "networkAccessEnabled",
        "webSearchMode",
        "webSearchEnabled",
        "skipGitRepoCheck",
        "additionalDirectories",
        "threadSource",
        "apiKey",
        "config",
        "configOverrides",
      ],
      passThrough: false,
    });
    expect(providerOptionKeys(getProvider("claude"))).toEqual({
      keys: ["killGraceMs", "maxLineBytes", "includePartialMessages"],
      passThrough: true,
    });
    expect(providerOptionKeys(getProvider("amp")).keys).toEqual([
      "mode",
      "thinking",
      "killGraceMs",
      "maxLineBytes",
      "mcpConfig",
      "settingsFile",
      "settings",
    ]);
    expect(providerOptionKeys(getProvider("shell"))).toEqual({
      keys: ["timeoutMs", "maxOutputBytes", "killGraceMs", "allowShellString", "shell", "successExitCodes"],
      passThrough: false,
    });
  });
});

describe("cliAdapterOptions", () => {
  it("maps common options to adapter options, read as their types", () => {
    const options = cliAdapterOptions(getProvider("claude"), {
      options: {
        executable: "./bin/claude",
        model: "claude-sonnet-4-5",
        permissionMode: "plan",
        cwd: workDir,
        systemPrompt: "Be brief.",
        maxTurns: "5",
        allowedTools: "Read, Grep,Bash(git log:*)",
        deniedTools: ["WebFetch", "WebSearch"],
      },
      env: NO_ENV,
    });
    expect(options).toEqual({
      executablePath: "./bin/claude",
      model: "claude-sonnet-4-5",
      permissionMode: "plan",
      cwd: workDir,
      systemPrompt: "Be brief.",
      maxTurns: 5,
      allowedTools: ["Read", "Grep", "Bash(git log:*)"],
      deniedTools: ["WebFetch", "WebSearch"],
    });
  });

  it("puts --provider-option keys where the provider takes them, typed", () => {
    expect(
      cliAdapterOptions(getProvider("codex"), {
        providerOptions: [
          "skipGitRepoCheck=true",
          "baseUrl=http://127.0.0.1:8080/v1",
          "additionalDirectories=/tmp/a,/tmp/b",
          'config={"model_instructions_file":"/p.md"}',
          "configOverrides=a=1",
        ],
        env: NO_ENV,
      }),
    ).toEqual({
      baseUrl: "http://127.0.0.1:8080/v1",
      providerOptions: {
        skipGitRepoCheck: true,
        additionalDirectories: ["/tmp/a", "/tmp/b"],
        config: { model_instructions_file: "/p.md" },
        configOverrides: ["a=1"],
      },
    });
    expect(
      cliAdapterOptions(getProvider("amp"), {
        providerOptions: ["mode=rush", "thinking=false", "mcpConfig=./mcp.json", 'settings={"amp.x":1}'],
        env: NO_ENV,
      }),
    ).toEqual({
      mode: "rush",
      thinking: false,
      providerOptions: { mcpConfig: "./mcp.json", settings: { "amp.x": 1 } },
    });
    expect(
      cliAdapterOptions(getProvider("shell"), {
        providerOptions: ["timeoutMs=0", "successExitCodes=0,1", "allowShellString=true"],
        env: NO_ENV,
      }),
    ).toEqual({ timeoutMs: 0, successExitCodes: [0, 1], allowShellString: true });
  });

  it("passes other keys through to Claude's SDK: JSON when it parses, else the text", () => {
    expect(
      cliAdapterOptions(getProvider("claude"), {
        providerOptions: [
          "effort=high",
          "maxThinkingTokens=2048",
          'settingSources=["user"]',
          "includePartialMessages=false",
        ],
        env: NO_ENV,
      }),
    ).toEqual({
      includePartialMessages: false,
      providerOptions: { effort: "high", maxThinkingTokens: 2048, settingSources: ["user"] },
    });
  });

  it("builds options the adapter accepts", async () => {
    const options = cliAdapterOptions(getProvider("codex"), {
      options: { cwd: workDir, model: "gpt-5", deniedTools: "WebSearch" },
      providerOptions: ["skipGitRepoCheck=true", "sandboxMode=read-only"],
      env: NO_ENV,
    });
    const adapter = await createAdapter("codex", options);
    expect(adapter.name).toBe("codex");
  });

  it("reads ASM_<PROVIDER>_<OPTION> variables; a flag wins over its variable", () => {
    const env = {
      ASM_CLAUDE_EXECUTABLE: "/opt/claude",
      ASM_CLAUDE_MODEL: "opus",
      ASM_CODEX_EXECUTABLE: "/opt/codex",
    };
    expect(cliAdapterOptions(getProvider("claude"), { env })).toEqual({
      executablePath: "/opt/claude",
      model: "opus",
    });
    expect(cliAdapterOptions(getProvider("claude"), { options: { model: "sonnet" }, env })).toEqual({
      executablePath: "/opt/claude",
      model: "sonnet",
    });
    // Each provider reads only its own variables; Amp has no model variable (it takes no model).
    expect(cliAdapterOptions(getProvider("amp"), { env: { ...env, ASM_AMP_MODEL: "x" } })).toEqual({});
    expect(cliAdapterOptions(getProvider("claude"), { env: { ASM_CLAUDE_EXECUTABLE: "" } })).toEqual({});
  });

  it("refuses common options the provider does not take, saying which it does", async () => {
    const shell = await thrown(() =>
      cliAdapterOptions(getProvider("shell"), {
        options: { model: "x", permissionMode: "plan", cwd: workDir },
      }),
    );
    expect(shell.code).toBe("validation_error");
    expect(shell.message).toBe("the shell provider takes no --model or --permission-mode");
    expect(shell.hint).toBe("options for shell: --cwd");
    const codex = await thrown(() => cliAdapterOptions(getProvider("codex"), { options: { maxTurns: "3" } }));
    expect(codex.message).toBe("the codex provider takes no --max-turns");
    expect(codex.hint).toContain("--executable, --model, --permission-mode");
  });

  it("names the flag, variable or key of a value of the wrong type", async () => {
    const turns = await thrown(() =>
      cliAdapterOptions(getProvider("claude"), { options: { maxTurns: "many" } }),
    );
    expect(turns.code).toBe("validation_error");
    expect(turns.message).toMatch(/^invalid --max-turns: /);
    expect(turns.details).toEqual({
      issues: [{ path: "", message: "Invalid input: expected number, received string" }],
    });
    const mode = await thrown(() =>
      cliAdapterOptions(getProvider("claude"), { options: { permissionMode: "yolo" } }),
    );
    expect(mode.message).toMatch(/^invalid --permission-mode: /);
    const skip = await thrown(() =>
      cliAdapterOptions(getProvider("codex"), { providerOptions: ["skipGitRepoCheck=yes"], env: NO_ENV }),
    );
    expect(skip.message).toMatch(/^invalid --provider-option skipGitRepoCheck: /);
    const variable = await thrown(() =>
      cliAdapterOptions(getProvider("claude"), { env: { ASM_CLAUDE_EXECUTABLE: "a\0b" } }),
    );
    expect(variable.message).toMatch(/^invalid ASM_CLAUDE_EXECUTABLE: /);
  });

  it("refuses unknown, repeated, malformed and misplaced --provider-option entries", async () => {
    const codex = getProvider("codex");
    const unknown = await thrown(() =>
      cliAdapterOptions(codex, { providerOptions: ["skipGitCheck=true"], env: NO_ENV }),
    );
    expect(unknown.code).toBe("validation_error");
    expect(unknown.message).toBe('unknown provider option "skipGitCheck" for codex');
    expect(unknown.hint).toContain("skipGitRepoCheck");
    const twice = await thrown(() =>
      cliAdapterOptions(codex, { providerOptions: ["apiKey=a", "apiKey=b"], env: NO_ENV }),
    );
    expect(twice.message).toBe("--provider-option apiKey is given more than once");
    for (const entry of ["skipGitRepoCheck", "=true", ""]) {
      const malformed = await thrown(() =>
        cliAdapterOptions(codex, { providerOptions: [entry], env: NO_ENV }),
      );
      expect(malformed.message, entry).toBe(`--provider-option expects key=value, got "${entry}"`);
    }
    const common = await thrown(() =>
      cliAdapterOptions(codex, { providerOptions: ["executablePath=/x"], env: NO_ENV }),
    );
    expect(common.hint).toBe("use --executable");
    const env = await thrown(() => cliAdapterOptions(codex, { providerOptions: ["env={}"], env: NO_ENV }));
    expect(env.message).toBe("env cannot be set with --provider-option");
    const shell = await thrown(() =>
      cliAdapterOptions(getProvider("shell"), { providerOptions: ["effort=high"], env: NO_ENV }),
    );
    expect(shell.hint).toContain("keys for shell: timeoutMs");
  });
});

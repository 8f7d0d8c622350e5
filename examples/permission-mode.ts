// Normalized permission modes: one setting — `default`, `accept_edits`, `plan`, `full_auto`,
// `dangerously_skip_permissions` — that each adapter maps to its provider's own semantics:
// Claude Code's `--permission-mode`, Codex's sandbox and approval policy, Amp's settings file.
// Given per run (`providerOptions.<provider>.permissionMode`) or per adapter (`permissionMode`).
//
// Checks (scripted CLIs): each provider was started with exactly what its exported mapping
// (`claudePermissionMode`, `codexPermissionSettings`, `ampSettings`) says for the mode — and
// `full_auto` never turns every check off (Claude: `acceptEdits`; Codex: the workspace-write
// sandbox; Amp: `amp.dangerouslyAllowAll` stays false).
//
//   npx tsx examples/permission-mode.ts                                    # every mode, scripted CLIs
//   npx tsx examples/permission-mode.ts --mode plan                        # one mode
//   npx tsx examples/permission-mode.ts --provider claude --mode dangerously_skip_permissions
import type { PermissionMode } from "agent-session-manager";
import { AsmError, MemorySessionStore, PERMISSION_MODES, SessionManager } from "agent-session-manager";
import { ampSettings } from "agent-session-manager/amp";
import { claudePermissionMode } from "agent-session-manager/claude";
import { codexPermissionSettings } from "agent-session-manager/codex";
import type { ScriptedCliRecord } from "agent-session-manager/testing";
import { type AgentProvider, check, createAgents, runExample } from "./support.js";

runExample(async () => {
  const modes = chosenModes();
  const agents = createAgents({ answer: "Done." });
  // The providers run side by side (each its own CLI and record), the modes one after another.
  const reports = await Promise.all(
    agents.map(async (agent) => {
      const lines: string[] = [];
      const manager = new SessionManager({ store: new MemorySessionStore(), adapter: agent.adapter });
      for (const mode of modes) {
        const result = await manager
          .runOnce("Say done.", { providerOptions: { [agent.provider]: { permissionMode: mode } } })
          .catch((error: unknown) => {
            // A real CLI may refuse a mode where it runs (Claude Code refuses to skip permissions
            // as root): the mode reached it. A scripted one must accept every mode.
            if (!agent.live || !AsmError.is(error, "provider_error")) throw error;
            lines.push(`${agent.provider} ${mode}: refused by the provider: ${error.message}`);
            return undefined;
          });
        if (result === undefined) continue;
        check(result.output.content !== "", `${agent.provider} ran in ${mode}`);
        const record = agent.lastInvocation();
        if (record === undefined) {
          lines.push(`${agent.provider} ${mode}: completed`);
          continue;
        }
        const { native, expected } = nativeMode(agent.provider, mode, record);
        check(native === expected, `${agent.provider} ${mode}: started with ${native}, expected ${expected}`);
        lines.push(`${agent.provider} ${mode} -> ${native}`);
      }
      return lines;
    }),
  );
  for (const line of reports.flat()) console.log(line);
  if (modes.includes("full_auto") && agents.every((agent) => !agent.live)) {
    check(claudePermissionMode("full_auto").permissionMode !== "bypassPermissions", "claude full_auto");
    check(codexPermissionSettings("full_auto").sandboxMode !== "danger-full-access", "codex full_auto");
    const amp = ampSettings({ permissionMode: "full_auto", allowedTools: [], deniedTools: [] });
    check(amp["amp.dangerouslyAllowAll"] === false, "amp full_auto");
    console.log("full_auto keeps each provider's guard rails");
  }
});

/** `--mode <mode>`: one mode; default every mode. */
function chosenModes(argv = process.argv.slice(2)): readonly PermissionMode[] {
  const at = argv.indexOf("--mode");
  if (at === -1) return PERMISSION_MODES;
  const mode = argv[at + 1];
  const known: readonly string[] = PERMISSION_MODES;
  if (mode === undefined || !known.includes(mode)) {
    throw new AsmError("validation_error", `unknown permission mode "${mode ?? ""}"`, {
      hint: `run with --mode ${PERMISSION_MODES.join("|")}`,
    });
  }
  return [mode as PermissionMode];
}

/** What the scripted CLI was started with for the mode, and what the adapter's mapping says. */
function nativeMode(provider: AgentProvider, mode: PermissionMode, record: ScriptedCliRecord) {
  const { argv } = record;
  switch (provider) {
    case "claude": {
      const mapped = claudePermissionMode(mode);
      const flags = argv.filter((arg) => /^--(permission-mode|allow-dangerously-skip-permissions)/.test(arg));
      const expected = [
        `--permission-mode=${mapped.permissionMode}`,
        ...(mapped.allowDangerouslySkipPermissions ? ["--allow-dangerously-skip-permissions"] : []),
      ];
      return { native: flags.join(" "), expected: expected.join(" ") };
    }
    case "codex": {
      const mapped = codexPermissionSettings(mode);
      const sandbox = argv.includes("--sandbox") ? `--sandbox ${argv[argv.indexOf("--sandbox") + 1]}` : "";
      const approval = argv.find((arg) => arg.startsWith("approval_policy=")) ?? "";
      const expected = [
        mapped.sandboxMode ? `--sandbox ${mapped.sandboxMode}` : "",
        mapped.approvalPolicy ? `approval_policy="${mapped.approvalPolicy}"` : "",
      ];
      return {
        native: [sandbox, approval].filter(Boolean).join(" ") || "(codex's own configuration)",
        expected: expected.filter(Boolean).join(" ") || "(codex's own configuration)",
      };
    }
    case "amp": {
      const summary = (settings: unknown) => {
        const values = (settings ?? {}) as Record<string, unknown>;
        const rules = Array.isArray(values["amp.permissions"]) ? values["amp.permissions"].length : 0;
        return `settings file: dangerouslyAllowAll=${String(values["amp.dangerouslyAllowAll"])}, ${rules} rules`;
      };
      const expected = ampSettings({ permissionMode: mode, allowedTools: [], deniedTools: [] });
      check(
        JSON.stringify(record.settings) === JSON.stringify(expected),
        `amp ${mode}: the whole settings file`,
      );
      return { native: summary(record.settings), expected: summary(expected) };
    }
  }
}

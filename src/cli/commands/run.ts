import type { PermissionMode } from "../../core/permission-mode.js";
import { killRegisteredGroups } from "../../providers/shared/process-group.js";
import { SessionManager } from "../../session-manager.js";
import { Interruption } from "../interruption.js";
import { openStore } from "../open-store.js";
import { EXIT, printJson, reportError, styleFor } from "../output.js";
import { createProvider } from "../providers.js";
import { EventRenderer } from "../render.js";

export interface RunCommandOptions {
  provider: string;
  model?: string;
  permissionMode?: PermissionMode;
  db?: string;
  json?: boolean;
  cwd?: string;
  timeout?: number;
  shell?: boolean;
  /** `--no-redact` sets it false. Default true: secrets are redacted before anything is stored. */
  redact?: boolean;
}

/**
 * `asm run`: one session, one run, rendered live. Ctrl-C — or SIGTERM, SIGHUP, SIGQUIT — cancels
 * the run cleanly (recorded, the provider's processes gone, exit 128 + the signal's number); a
 * second one SIGKILLs the provider's processes instead of waiting out their grace, and the
 * cancel is still recorded. A stdout nobody reads anymore (`| head`) cancels the run quietly.
 */
export async function runCommand(words: string[], options: RunCommandOptions): Promise<number> {
  const json = options.json === true;
  const interruption = new Interruption({ onRepeat: () => killProviderProcesses(json) });
  const renderer = new EventRenderer(process.stdout, styleFor(process.stdout));
  let store: Awaited<ReturnType<typeof openStore>> | undefined;
  try {
    const adapter = await createProvider(options.provider, {
      ...(options.cwd ? { cwd: options.cwd } : {}),
      ...(options.model ? { model: options.model } : {}),
      ...(options.permissionMode ? { permissionMode: options.permissionMode } : {}),
      ...(options.shell ? { shell: true } : {}),
    });
    store = await openStore(options.db);
    const manager = new SessionManager({ store, adapter, redaction: options.redact !== false });
    // The shell provider takes argv as typed; every other provider takes the words as a prompt.
    const input =
      options.provider === "shell" && !options.shell ? { command: words } : { prompt: words.join(" ") };
    await manager.runOnce(input, {
      signal: interruption.signal,
      ...(options.timeout ? { timeoutMs: options.timeout } : {}),
      onEvent: (event) => (json ? printJson(event) : renderer.render(event)),
    });
    return EXIT.ok;
  } catch (error) {
    renderer.finish();
    // A closed stdout is its reader saying "enough": nothing to report, and nowhere to.
    const code = interruption.interrupt?.kind === "stdout_closed" ? EXIT.failed : reportError(error, json);
    return interruption.exitCode ?? code;
  } finally {
    await store?.close();
    interruption.dispose();
  }
}

/** The user asked again: the run's processes get SIGKILL now rather than the rest of their grace. */
function killProviderProcesses(json: boolean): void {
  if (killRegisteredGroups() > 0 && !json) {
    process.stderr.write("asm: stopping the provider's processes now (SIGKILL)\n");
  }
}

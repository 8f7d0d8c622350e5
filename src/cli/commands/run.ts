import type { PermissionMode } from "../../core/permission-mode.js";
import { SessionManager } from "../../manager/session-manager.js";
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

/** `asm run`: one session, one run, rendered live; Ctrl-C cancels the run cleanly. */
export async function runCommand(words: string[], options: RunCommandOptions): Promise<number> {
  const json = options.json === true;
  const controller = new AbortController();
  const interrupt = () => controller.abort();
  process.once("SIGINT", interrupt);
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
      signal: controller.signal,
      ...(options.timeout ? { timeoutMs: options.timeout } : {}),
      onEvent: (event) => (json ? printJson(event) : renderer.render(event)),
    });
    return EXIT.ok;
  } catch (error) {
    renderer.finish();
    const code = reportError(error, json);
    return controller.signal.aborted ? EXIT.interrupted : code;
  } finally {
    process.off("SIGINT", interrupt);
    await store?.close();
  }
}

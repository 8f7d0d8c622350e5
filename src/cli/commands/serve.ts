import { AsmError } from "../../core/errors.js";
import { cliAdapterOptions } from "../../providers/cli-face.js";
import { checkCredentials, getProvider } from "../../providers/registry.js";
import { startApiServer } from "../../server/serve.js";
import { SessionManager } from "../../session-manager.js";
import { openStore } from "../open-store.js";
import { reportError } from "../output.js";

export interface ServeCommandOptions {
  host: string;
  port: number;
  token?: string;
  dev?: boolean;
  db?: string;
  provider: string;
  providerOption?: string[];
  executable?: string;
  cwd?: string;
  workspaceRoot?: string[];
  corsOrigin?: string[];
  redact?: boolean;
}

/**
 * `asm serve`: the HTTP API over the store, runs executed by the chosen provider. Logs one JSON
 * line per request on stdout; the first SIGINT/SIGTERM shuts down gracefully (streams ended with
 * a final comment, runs drained then cancelled), a second one exits at once.
 */
export async function serveCommand(options: ServeCommandOptions): Promise<number> {
  const token = options.token ?? process.env.ASM_TOKEN;
  let store: Awaited<ReturnType<typeof openStore>> | undefined;
  try {
    const descriptor = getProvider(options.provider);
    const adapterOptions = cliAdapterOptions(descriptor, {
      options: {
        ...(options.executable ? { executable: options.executable } : {}),
        ...(options.cwd ? { cwd: options.cwd } : {}),
      },
      providerOptions: options.providerOption ?? [],
    });
    const credentials = checkCredentials(descriptor.name, {
      ...(typeof adapterOptions.executablePath === "string"
        ? { executablePath: adapterOptions.executablePath }
        : {}),
    });
    if (!credentials.ok) throw credentials.error;
    const adapter = await descriptor.create(adapterOptions);
    store = await openStore(options.db);
    const manager = new SessionManager({ store, adapter, redaction: options.redact !== false });
    const server = await startApiServer({
      manager,
      host: options.host,
      port: options.port,
      dev: options.dev === true,
      ...(token ? { token } : {}),
      ...(options.workspaceRoot ? { workspaceRoots: await realRoots(options.workspaceRoot) } : {}),
      ...(options.corsOrigin ? { corsOrigins: options.corsOrigin } : {}),
      onRequest: (entry) => process.stdout.write(`${JSON.stringify(entry)}\n`),
    });
    process.stderr.write(
      `asm serve: ${descriptor.name} on ${server.url}${token ? " (bearer token required)" : " (dev: no token)"}\n`,
    );
    const signal = await new Promise<NodeJS.Signals>((resolve) => {
      process.once("SIGINT", () => resolve("SIGINT"));
      process.once("SIGTERM", () => resolve("SIGTERM"));
    });
    process.stderr.write(`asm serve: ${signal}, shutting down (again to exit at once)\n`);
    const again = () => process.exit(130);
    process.once("SIGINT", again);
    process.once("SIGTERM", again);
    await server.close();
    return 0;
  } catch (error) {
    return reportError(error, false);
  } finally {
    await store?.close();
  }
}

async function realRoots(roots: string[]): Promise<string[]> {
  const { realpath } = await import("node:fs/promises");
  return Promise.all(
    roots.map((root) =>
      realpath(root).catch((cause: unknown) => {
        throw new AsmError("validation_error", `--workspace-root ${root} does not exist`, { cause });
      }),
    ),
  );
}

import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { SCRIPTED_ACP_ENV, type ScriptedAcpRecord, type ScriptedAcpScenario } from "./protocol.js";

export * from "./protocol.js";

const HERE = path.dirname(fileURLToPath(import.meta.url));
/** Running from the TypeScript sources (vitest, tsx) rather than from the compiled package. */
const FROM_SOURCE = import.meta.url.endsWith(".ts");

/**
 * The argv that starts the scripted ACP agent with this process's node (through tsx when running
 * from the sources): what an `AcpAdapter`'s `agent` option takes. It needs
 * `@agentclientprotocol/sdk` installed.
 */
export function scriptedAcpAgentCommand(): string[] {
  const file = path.join(HERE, `agent.${FROM_SOURCE ? "ts" : "js"}`);
  if (!FROM_SOURCE) return [process.execPath, file];
  const tsx = createRequire(import.meta.url).resolve("tsx");
  return [process.execPath, "--import", pathToFileURL(tsx).href, file];
}

/** The environment that picks the scripted agent's scenario (and its record file). */
export function scriptedAcpAgentEnv(options: {
  scenario: ScriptedAcpScenario;
  record?: string;
}): Record<string, string> {
  return {
    [SCRIPTED_ACP_ENV.scenario]: options.scenario,
    ...(options.record ? { [SCRIPTED_ACP_ENV.record]: options.record } : {}),
  };
}

/** The record the scripted agent wrote, or undefined when it has not written one (yet). */
export function readScriptedAcpRecord(file: string): ScriptedAcpRecord | undefined {
  try {
    return JSON.parse(readFileSync(file, "utf8")) as ScriptedAcpRecord;
  } catch {
    return undefined;
  }
}

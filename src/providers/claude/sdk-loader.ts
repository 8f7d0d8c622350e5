import type * as ClaudeSdk from "@anthropic-ai/claude-agent-sdk";
import { AsmError } from "../../core/errors.js";
import { PROVIDERS, sdkNotInstalled } from "../shared/provider-failures.js";

export type ClaudeSdkModule = Pick<typeof ClaudeSdk, "query">;

export const CLAUDE_SDK_PACKAGE = "@anthropic-ai/claude-agent-sdk";

function isModuleNotFound(error: unknown): boolean {
  return (
    typeof error === "object" &&
    error !== null &&
    "code" in error &&
    (error.code === "ERR_MODULE_NOT_FOUND" || error.code === "MODULE_NOT_FOUND")
  );
}

/** Runs `importer`, turning a missing package into `dependency_not_available` with an install hint. */
export async function importClaudeSdk(importer: () => Promise<ClaudeSdkModule>): Promise<ClaudeSdkModule> {
  try {
    return await importer();
  } catch (error) {
    if (isModuleNotFound(error)) throw sdkNotInstalled(PROVIDERS.claude, CLAUDE_SDK_PACKAGE, error);
    throw new AsmError("dependency_not_available", `cannot load ${CLAUDE_SDK_PACKAGE}: ${String(error)}`, {
      hint: `reinstall ${CLAUDE_SDK_PACKAGE}`,
      cause: error,
    });
  }
}

let cached: Promise<ClaudeSdkModule> | undefined;

/**
 * Imports the Claude Agent SDK (an optional peer dependency) the first time a run needs it, so
 * importing the adapter costs nothing for users of other providers. A failed import is not
 * cached: installing the package fixes the next run.
 */
export function loadClaudeSdk(): Promise<ClaudeSdkModule> {
  if (cached) return cached;
  const loading = importClaudeSdk(() => import("@anthropic-ai/claude-agent-sdk"));
  cached = loading;
  loading.catch(() => {
    if (cached === loading) cached = undefined;
  });
  return loading;
}

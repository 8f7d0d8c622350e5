import type * as CodexSdk from "@openai/codex-sdk";
import { AsmError } from "../../core/errors.js";
import { PROVIDERS, sdkNotInstalled } from "../shared/provider-failures.js";

export type CodexSdkModule = Pick<typeof CodexSdk, "Codex">;

export const CODEX_SDK_PACKAGE = "@openai/codex-sdk";

function isModuleNotFound(error: unknown): boolean {
  return (
    typeof error === "object" &&
    error !== null &&
    "code" in error &&
    (error.code === "ERR_MODULE_NOT_FOUND" || error.code === "MODULE_NOT_FOUND")
  );
}

/** Runs `importer`, turning a missing package into `dependency_not_available` with an install hint. */
export async function importCodexSdk(importer: () => Promise<CodexSdkModule>): Promise<CodexSdkModule> {
  try {
    return await importer();
  } catch (error) {
    if (isModuleNotFound(error)) throw sdkNotInstalled(PROVIDERS.codex, CODEX_SDK_PACKAGE, error);
    throw new AsmError("dependency_not_available", `cannot load ${CODEX_SDK_PACKAGE}: ${String(error)}`, {
      hint: `reinstall ${CODEX_SDK_PACKAGE}`,
      cause: error,
    });
  }
}

let cached: Promise<CodexSdkModule> | undefined;

/**
 * Imports the Codex SDK (an optional peer dependency) the first time a run needs it, so
 * importing the adapter costs nothing for users of other providers. A failed import is not
 * cached: installing the package fixes the next run.
 */
export function loadCodexSdk(): Promise<CodexSdkModule> {
  if (cached) return cached;
  const loading = importCodexSdk(() => import("@openai/codex-sdk"));
  cached = loading;
  loading.catch(() => {
    if (cached === loading) cached = undefined;
  });
  return loading;
}

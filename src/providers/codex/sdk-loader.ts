import type * as CodexSdk from "@openai/codex-sdk";
import { optionalSdk } from "../shared/optional-sdk.js";
import { PROVIDERS } from "../shared/provider-failures.js";

export type CodexSdkModule = Pick<typeof CodexSdk, "Codex">;

export const CODEX_SDK_PACKAGE = "@openai/codex-sdk";

/** The Codex SDK through `importer`, loaded as `optionalSdk` loads it (tests simulate a missing one). */
export function importCodexSdk(importer: () => Promise<CodexSdkModule>): Promise<CodexSdkModule> {
  return optionalSdk(PROVIDERS.codex, CODEX_SDK_PACKAGE, importer)();
}

/** The Codex SDK, loaded on first use. */
export const loadCodexSdk = optionalSdk<CodexSdkModule>(
  PROVIDERS.codex,
  CODEX_SDK_PACKAGE,
  () => import("@openai/codex-sdk"),
);

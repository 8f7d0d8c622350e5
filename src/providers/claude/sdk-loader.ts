import type * as ClaudeSdk from "@anthropic-ai/claude-agent-sdk";
import { importOptionalSdk, optionalSdk } from "../shared/optional-sdk.js";
import { PROVIDERS } from "../shared/provider-failures.js";

export type ClaudeSdkModule = Pick<typeof ClaudeSdk, "query">;

export const CLAUDE_SDK_PACKAGE = "@anthropic-ai/claude-agent-sdk";

/** `importOptionalSdk` for the Claude Agent SDK, with any importer (tests simulate a missing one). */
export function importClaudeSdk(importer: () => Promise<ClaudeSdkModule>): Promise<ClaudeSdkModule> {
  return importOptionalSdk(PROVIDERS.claude, CLAUDE_SDK_PACKAGE, importer);
}

/** The Claude Agent SDK, loaded on first use. */
export const loadClaudeSdk = optionalSdk<ClaudeSdkModule>(
  PROVIDERS.claude,
  CLAUDE_SDK_PACKAGE,
  () => import("@anthropic-ai/claude-agent-sdk"),
);

import type * as ClaudeSdk from "@anthropic-ai/claude-agent-sdk";
import { optionalSdk } from "../shared/optional-sdk.js";
import { PROVIDERS } from "../shared/provider-failures.js";

export type ClaudeSdkModule = Pick<typeof ClaudeSdk, "query">;

export const CLAUDE_SDK_PACKAGE = "@anthropic-ai/claude-agent-sdk";

/** The Claude Agent SDK through `importer`, loaded as `optionalSdk` loads it (tests simulate a missing one). */
export function importClaudeSdk(importer: () => Promise<ClaudeSdkModule>): Promise<ClaudeSdkModule> {
  return optionalSdk(PROVIDERS.claude, CLAUDE_SDK_PACKAGE, importer)();
}

/** The Claude Agent SDK, loaded on first use. */
export const loadClaudeSdk = optionalSdk<ClaudeSdkModule>(
  PROVIDERS.claude,
  CLAUDE_SDK_PACKAGE,
  () => import("@anthropic-ai/claude-agent-sdk"),
);

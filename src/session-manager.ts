import { type ContinuityExtensionOptions, continuityExtension } from "./continuity/continuity-extension.js";
import { costExtension } from "./cost/cost-extension.js";
import type { PricingTable } from "./cost/pricing-table.js";
import { type SessionManagerOptions as BaseOptions, SessionManagerBase } from "./manager/session-manager.js";
import { policyExtension } from "./policy/policy-extension.js";
import type { WorkspaceOptions } from "./workspace/workspace.js";
import { workspaceExtension } from "./workspace/workspace-extension.js";

export interface SessionManagerOptions extends BaseOptions {
  /**
   * Prices used when a provider does not report a run's cost itself (and for a policy's
   * `maxCostUsd` while the run goes). Default: `DEFAULT_PRICING` (list prices of current Claude
   * and OpenAI models).
   */
  pricing?: PricingTable;
  /** Settings of the built-in continuity extension (`executeRun({ continuation })`). Default: its defaults. */
  continuity?: ContinuityExtensionOptions;
  /**
   * For runs given a `workspace` option: the artifact store for patches over the cap, snapshot
   * ref retention, the git command limit (see `WorkspaceOptions`). Default: no store, 50 refs, 120 s.
   */
  workspace?: WorkspaceOptions;
}

/**
 * The `SessionManager`: sessions, runs and their one event log over a store and a provider,
 * with the built-in run extensions — cost (every run priced), policy (`executeRun({ policy })`)
 * continuity (`executeRun({ continuation })`) and workspace snapshots (`executeRun({ workspace })`)
 * — ahead of any `extensions` given.
 */
export class SessionManager extends SessionManagerBase {
  constructor(options: SessionManagerOptions) {
    const { pricing, continuity, workspace, extensions = [], ...rest } = options;
    const priced = pricing ? { pricing } : {};
    super({
      ...rest,
      extensions: [
        costExtension(priced),
        policyExtension(priced),
        continuityExtension(continuity),
        // After policy: its finish sees a policy failure decided at the run's end.
        workspaceExtension(workspace),
        ...extensions,
      ],
    });
  }
}

import { costExtension } from "./cost/cost-extension.js";
import type { PricingTable } from "./cost/pricing-table.js";
import { type SessionManagerOptions as BaseOptions, SessionManagerBase } from "./manager/session-manager.js";
import { policyExtension } from "./policy/policy-extension.js";

export interface SessionManagerOptions extends BaseOptions {
  /**
   * Prices used when a provider does not report a run's cost itself (and for a policy's
   * `maxCostUsd` while the run goes). Default: `DEFAULT_PRICING` (list prices of current Claude
   * and OpenAI models).
   */
  pricing?: PricingTable;
}

/**
 * The `SessionManager`: sessions, runs and their one event log over a store and a provider,
 * with the built-in run extensions — cost (every run priced) and policy (`executeRun({ policy })`)
 * — ahead of any `extensions` given.
 */
export class SessionManager extends SessionManagerBase {
  constructor(options: SessionManagerOptions) {
    const { pricing, extensions = [], ...rest } = options;
    const priced = pricing ? { pricing } : {};
    super({ ...rest, extensions: [costExtension(priced), policyExtension(priced), ...extensions] });
  }
}

import { describe, expect, it } from "vitest";
import { AsmError } from "../core/errors.js";
import { ProviderHealth, retryAfterMs } from "./health.js";
import { ManualClock } from "./test-support/scripted-provider.js";

function setup() {
  const clock = new ManualClock();
  const health = new ProviderHealth(
    { cooldownMs: 30_000, failuresBeforeCooldown: 3, failurePenaltyWindowMs: 60_000 },
    clock.now,
  );
  return { clock, health };
}

describe("ProviderHealth", () => {
  it("benches a provider only after failuresBeforeCooldown consecutive failures", () => {
    const { clock, health } = setup();
    health.recordFailure("provider_unavailable");
    health.recordFailure("provider_unavailable");
    expect(health.coolingUntil()).toBeUndefined();
    health.recordFailure("provider_unavailable");
    expect(health.coolingUntil()).toBe(clock.now() + 30_000);
    clock.advance(30_000);
    expect(health.coolingUntil()).toBeUndefined();
    // Still failing after the cooldown: benched again at once, until a success resets the count.
    health.recordFailure("provider_unavailable");
    expect(health.coolingUntil()).toBe(clock.now() + 30_000);
  });

  it("a success resets the count and lifts the failure bench", () => {
    const { health } = setup();
    for (let i = 0; i < 3; i += 1) health.recordFailure("provider_timeout");
    health.recordSuccess();
    expect(health.snapshot()).toMatchObject({ consecutiveFailures: 0 });
    expect(health.coolingUntil()).toBeUndefined();
  });

  it("honours Retry-After from the first failure, for at least that long", () => {
    const { clock, health } = setup();
    health.recordFailure("provider_rate_limited", 5_000);
    expect(health.coolingUntil()).toBe(clock.now() + 5_000);
    clock.advance(4_999);
    expect(health.coolingUntil()).toBeDefined();
    clock.advance(1);
    expect(health.coolingUntil()).toBeUndefined();
  });

  it("a Retry-After longer than the cooldown wins; a shorter one does not shorten it", () => {
    const { clock, health } = setup();
    health.recordFailure("provider_unavailable");
    health.recordFailure("provider_unavailable");
    health.recordFailure("provider_rate_limited", 120_000);
    expect(health.coolingUntil()).toBe(clock.now() + 120_000);

    const other = setup();
    other.health.recordFailure("provider_unavailable");
    other.health.recordFailure("provider_unavailable");
    other.health.recordFailure("provider_rate_limited", 1_000);
    expect(other.health.coolingUntil()).toBe(other.clock.now() + 30_000);
  });

  it("a late success does not lift a Retry-After pause", () => {
    const { clock, health } = setup();
    health.recordFailure("provider_rate_limited", 5_000);
    health.recordSuccess();
    expect(health.coolingUntil()).toBe(clock.now() + 5_000);
  });

  it("penalty: 0.5 per failure when fresh, fading linearly over the window, cleared by a success", () => {
    const { clock, health } = setup();
    expect(health.penalty()).toBe(0);
    health.recordFailure("provider_unavailable");
    expect(health.penalty()).toBe(0.5);
    clock.advance(30_000);
    expect(health.penalty()).toBe(0.25);
    health.recordFailure("provider_unavailable");
    expect(health.penalty()).toBe(0.75);
    expect(health.snapshot().penalty).toBe(0.75);
    clock.advance(30_000);
    // The first failure has faded out; the second is half-way.
    expect(health.penalty()).toBe(0.25);
    clock.advance(30_000);
    expect(health.penalty()).toBe(0);
    health.recordFailure("provider_unavailable");
    health.recordSuccess();
    expect(health.penalty()).toBe(0);
  });

  it("penalty: a window of 0 turns it off", () => {
    const clock = new ManualClock();
    const health = new ProviderHealth(
      { cooldownMs: 30_000, failuresBeforeCooldown: 3, failurePenaltyWindowMs: 0 },
      clock.now,
    );
    health.recordFailure("provider_unavailable");
    expect(health.penalty()).toBe(0);
  });

  it("reads retryAfterMs from error details, ignoring anything that is not a usable number", () => {
    const error = (details: Record<string, unknown>) =>
      new AsmError("provider_rate_limited", "x", { details });
    expect(retryAfterMs(error({ retryAfterMs: 1500 }))).toBe(1500);
    expect(retryAfterMs(error({ retryAfterMs: "1500" }))).toBeUndefined();
    expect(retryAfterMs(error({ retryAfterMs: -1 }))).toBeUndefined();
    expect(retryAfterMs(error({ retryAfterMs: Number.POSITIVE_INFINITY }))).toBeUndefined();
    expect(retryAfterMs(error({}))).toBeUndefined();
  });
});

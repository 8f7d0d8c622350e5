import { describe, expect, it } from "vitest";
import { type BreakerPermit, CircuitBreaker } from "./circuit-breaker.js";
import { ManualClock } from "./test-support/scripted-provider.js";

function admit(breaker: CircuitBreaker): BreakerPermit {
  const admission = breaker.admit();
  if (!admission.admitted) throw new Error(`refused: ${admission.reason}`);
  return admission.permit;
}

function openBreaker(options: { halfOpenMaxProbes?: number } = {}) {
  const clock = new ManualClock();
  const breaker = new CircuitBreaker({ failureThreshold: 3, cooldownMs: 10_000, ...options }, clock.now);
  for (let i = 0; i < 3; i += 1) breaker.recordFailure(admit(breaker));
  return { clock, breaker };
}

describe("CircuitBreaker", () => {
  it("stays closed below the threshold, and a success resets the count", () => {
    const clock = new ManualClock();
    const breaker = new CircuitBreaker({ failureThreshold: 3 }, clock.now);
    breaker.recordFailure(admit(breaker));
    breaker.recordFailure(admit(breaker));
    breaker.recordSuccess(admit(breaker));
    breaker.recordFailure(admit(breaker));
    breaker.recordFailure(admit(breaker));
    expect(breaker.snapshot()).toEqual({ state: "closed", consecutiveFailures: 2, probesInFlight: 0 });
  });

  it("opens at the threshold and refuses attempts until the cooldown has passed", () => {
    const { clock, breaker } = openBreaker();
    const openedAt = clock.now();
    expect(breaker.snapshot()).toMatchObject({ state: "open", openedAt, halfOpenAt: openedAt + 10_000 });
    const refused = breaker.admit();
    expect(refused).toEqual({ admitted: false, reason: expect.stringContaining("circuit open until") });

    clock.advance(9_999);
    expect(breaker.state).toBe("open");
    clock.advance(1);
    expect(breaker.state).toBe("half_open");
  });

  it("half-open admits only halfOpenMaxProbes concurrent probes", () => {
    const { clock, breaker } = openBreaker({ halfOpenMaxProbes: 1 });
    clock.advance(10_000);
    const probe = admit(breaker);
    expect(probe.probe).toBe(true);
    expect(breaker.admit()).toEqual({ admitted: false, reason: expect.stringContaining("1 probe(s)") });
    expect(breaker.snapshot().probesInFlight).toBe(1);

    // A probe handed back without a verdict frees its slot and decides nothing.
    breaker.release(probe);
    expect(breaker.state).toBe("half_open");
    expect(admit(breaker).probe).toBe(true);
  });

  it("closes on a probe success", () => {
    const { clock, breaker } = openBreaker();
    clock.advance(10_000);
    breaker.recordSuccess(admit(breaker));
    expect(breaker.snapshot()).toEqual({ state: "closed", consecutiveFailures: 0, probesInFlight: 0 });
    expect(admit(breaker).probe).toBe(false);
  });

  it("reopens on a probe failure, for a whole new cooldown", () => {
    const { clock, breaker } = openBreaker();
    clock.advance(10_000);
    breaker.recordFailure(admit(breaker));
    expect(breaker.snapshot()).toMatchObject({ state: "open", openedAt: clock.now() });
    clock.advance(9_999);
    expect(breaker.state).toBe("open");
    clock.advance(1);
    expect(breaker.state).toBe("half_open");
  });

  it("admits several probes when configured, and the first verdict decides", () => {
    const { clock, breaker } = openBreaker({ halfOpenMaxProbes: 2 });
    clock.advance(10_000);
    const first = admit(breaker);
    const second = admit(breaker);
    expect(breaker.admit().admitted).toBe(false);
    breaker.recordFailure(first);
    expect(breaker.state).toBe("open");
    // The other probe's late success belongs to a finished half-open period: it cannot close the breaker.
    breaker.recordSuccess(second);
    expect(breaker.state).toBe("open");
  });

  it("ignores outcomes of attempts admitted before the breaker opened", () => {
    const clock = new ManualClock();
    const breaker = new CircuitBreaker({ failureThreshold: 1, cooldownMs: 10_000 }, clock.now);
    const lateSuccess = admit(breaker);
    const lateFailure = admit(breaker);
    breaker.recordFailure(admit(breaker));
    expect(breaker.state).toBe("open");
    breaker.recordSuccess(lateSuccess);
    expect(breaker.state).toBe("open");
    clock.advance(5_000);
    breaker.recordFailure(lateFailure);
    expect(breaker.snapshot().openedAt).toBe(clock.now() - 5_000);
  });
});

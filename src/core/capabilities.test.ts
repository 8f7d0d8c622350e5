import { describe, expect, it } from "vitest";
import { type Capability, negotiateCapabilities } from "./capabilities.js";

const offered: Capability[] = [
  { name: "streaming", type: "sampling" },
  { name: "bash", type: "tool" },
  { name: "vision", type: "resource", enabled: false },
];

describe("negotiateCapabilities", () => {
  it("is full when everything is offered, by type or by name", () => {
    const result = negotiateCapabilities("p", offered, {
      required: ["tool", { type: "sampling", name: "streaming" }],
    });
    expect(result).toEqual({
      status: "full",
      supported: ["tool", { type: "sampling", name: "streaming" }],
      unsupported: [],
      warnings: [],
    });
  });

  it("degrades on a missing optional capability and ignores disabled ones", () => {
    const result = negotiateCapabilities("p", offered, { required: ["tool"], optional: ["resource"] });
    expect(result.status).toBe("degraded");
    expect(result.unsupported).toEqual(["resource"]);
    expect(result.warnings).toEqual(["provider p lacks optional capability resource"]);
  });

  it("fails on a missing required capability or an unknown type", () => {
    expect(() =>
      negotiateCapabilities("p", offered, { required: [{ type: "tool", name: "edit" }] }),
    ).toThrowError(
      expect.objectContaining({
        code: "missing_required_capability",
        details: { provider: "p", missing: ["tool:edit"] },
      }),
    );
    expect(() =>
      negotiateCapabilities("p", offered, { required: ["telepathy" as unknown as "tool"] }),
    ).toThrowError(expect.objectContaining({ code: "invalid_capability_type" }));
  });
});

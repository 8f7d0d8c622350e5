import { describe, expect, it } from "vitest";
import { AsmError } from "../../core/errors.js";
import type { ExecuteRequest } from "../../ports/provider-adapter.js";
import { makeExecuteRequest } from "../../testing/adapter-conformance.js";
import { ownProviderOptions, resumePointFor } from "./provider-request.js";

const input = { prompt: "hi" };

describe("ownProviderOptions", () => {
  it("answers the provider's own namespace only, {} when it has none", () => {
    const request = makeExecuteRequest(input, {
      providerOptions: { claude: { resumeSessionId: "s" }, codex: { bogus: true } },
    });
    expect(ownProviderOptions(request, "claude")).toEqual({ resumeSessionId: "s" });
    expect(ownProviderOptions(request, "amp")).toEqual({});
    // Names the prototype knows are namespaces like any other.
    expect(ownProviderOptions(request, "constructor")).toEqual({});
    // A request built by hand without any namespace.
    const bare = { ...request, providerOptions: undefined } as unknown as ExecuteRequest;
    expect(ownProviderOptions(bare, "claude")).toEqual({});
  });

  it("refuses a namespace that is not an object with validation_error", () => {
    for (const value of ["resume", 3, null, ["a"]]) {
      const request = makeExecuteRequest(input, { providerOptions: { claude: value as never } });
      let caught: unknown;
      try {
        ownProviderOptions(request, "claude");
      } catch (error) {
        caught = error;
      }
      expect(AsmError.is(caught, "validation_error"), JSON.stringify(value)).toBe(true);
      expect((caught as AsmError).message).toContain("providerOptions.claude");
    }
  });
});

describe("resumePointFor", () => {
  const point = { providerSessionId: "thread-1", runId: "run_1", totals: { costUsd: 1 } };

  it("answers the provider's point only when it is for the native session being resumed", () => {
    const request = makeExecuteRequest(input, { resumePoints: { codex: point } });
    expect(resumePointFor(request, "codex", "thread-1")).toEqual(point);
    expect(resumePointFor(request, "codex", "thread-2")).toBeUndefined();
    expect(resumePointFor(request, "claude", "thread-1")).toBeUndefined();
    expect(resumePointFor(makeExecuteRequest(input), "codex", "thread-1")).toBeUndefined();
  });
});

import { describe, expect, it } from "vitest";
import { compileToolRules } from "./adapter-compiler.js";
import { definePolicy, mergePolicies, type PolicyInput } from "./policy.js";

const compile = (input: PolicyInput) => compileToolRules(definePolicy(input));

describe("compileToolRules", () => {
  it("compiles nothing from a policy without tool rules", () => {
    expect(compile({ limits: { maxTotalTokens: 10 } })).toEqual({});
  });

  it("compiles deny lists alone into deniedTools, each tool once", () => {
    expect(compile({ toolRules: [{ deny: ["bash", "rm"] }, { deny: ["rm", "curl"] }] })).toEqual({
      deniedTools: ["bash", "rm", "curl"],
    });
  });

  it("compiles allow lists into their intersection minus every denied tool", () => {
    expect(
      compile({
        toolRules: [
          { allow: ["read", "grep", "bash", "edit"] },
          { deny: ["bash"] },
          { allow: ["edit", "bash", "read"] },
        ],
      }),
    ).toEqual({ allowedTools: ["read", "edit"] });
  });

  it("compiles a merged stack like the policies it came from", () => {
    const org = definePolicy({ name: "org", toolRules: [{ allow: ["read", "grep", "edit"] }] });
    const team = definePolicy({ name: "team", toolRules: [{ deny: ["edit"] }] });
    expect(compileToolRules(mergePolicies([org, team]))).toEqual({ allowedTools: ["read", "grep"] });
  });
});

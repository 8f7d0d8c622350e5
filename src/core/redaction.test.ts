import { describe, expect, it } from "vitest";
import { Redactor } from "./redaction.js";

describe("Redactor", () => {
  const redactor = new Redactor();

  it.each([
    ["aws access key", "AKIAIOSFODNN7EXAMPLE"],
    ["anthropic key", "sk-ant-api03-AbCdEfGhIjKlMnOpQrStUvWx"],
    ["openai project key", "sk-proj-AbCdEfGhIjKlMnOpQrStUvWx"],
    ["github token", `ghp_${"a".repeat(36)}`],
    ["jwt", "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U"],
    ["bearer", "Authorization: Bearer abcdefghijklmnopqrstuvwxyz012345"],
    ["dsn", "postgres://app:hunter2@db.internal:5432/prod"],
    ["password assignment", "password=hunter22"],
    ["pem", "-----BEGIN RSA PRIVATE KEY-----\nMIIabc\n-----END RSA PRIVATE KEY-----"],
  ])("redacts a %s", (_name, secret) => {
    const { text, count } = redactor.redactText(`before ${secret} after`);
    expect(count).toBeGreaterThanOrEqual(1);
    expect(text).not.toContain(secret);
    expect(text).toContain("[REDACTED]");
  });

  it("leaves ordinary text alone", () => {
    const text = "sk-short and a normal sentence about tokens and passwords";
    expect(redactor.redactText(text)).toEqual({ text, count: 0 });
  });

  it("scans nested data without mutating it, and skips counters-only event types", () => {
    const data = {
      toolInput: { env: ["TOKEN=x", "AKIAIOSFODNN7EXAMPLE"] },
      toolName: "bash",
      toolCallId: "1",
    };
    const result = redactor.redactEvent("tool_call_started", data, {});
    expect(result.count).toBe(1);
    expect(result.data.toolInput).toEqual({ env: ["TOKEN=x", "[REDACTED]"] });
    expect(data.toolInput.env[1]).toBe("AKIAIOSFODNN7EXAMPLE");
    const usage = { inputTokens: 1, outputTokens: 2 };
    expect(redactor.redactEvent("token_usage_updated", usage, {}).data).toBe(usage);
  });

  it("can name the category and scan metadata", () => {
    const categorized = new Redactor({ replacement: "categorized", scanMetadata: true });
    const result = categorized.redactEvent(
      "message_received",
      { role: "assistant", content: "AKIAIOSFODNN7EXAMPLE" },
      { note: "ghp_aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa" },
    );
    expect(result.data.content).toBe("[REDACTED:aws_access_key]");
    expect(result.metadata.note).toBe("[REDACTED:github_token]");
    expect(result.count).toBe(2);
  });

  it("rejects a pattern without the global flag", () => {
    expect(() => new Redactor({ extraPatterns: [{ category: "x", regex: /x/ }] })).toThrow(/g flag/);
  });
});

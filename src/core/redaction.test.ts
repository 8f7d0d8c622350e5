import { describe, expect, it } from "vitest";
import { REDACTION_MAX_DEPTH, Redactor } from "./redaction.js";
import type { Run } from "./run.js";
import type { Session } from "./session.js";

const PEM_BODY = "MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7";

describe("Redactor patterns", () => {
  const redactor = new Redactor();

  // [what, text with the secret, the part that must vanish (default: all of it)]
  it.each<[string, string, string?]>([
    ["aws access key", "AKIAIOSFODNN7EXAMPLE"],
    ["aws access key with one more word character", "AKIAIOSFODNN7EXAMPLEX"],
    ["aws temporary key", "ASIAY34FZKBOKMUTVV7A"],
    [
      "aws secret key assignment",
      "aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
      "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
    ],
    ["gcp key with one more word character", "AIzaSyA1234567890abcdefghijklmnopqrstuvw"],
    ["google oauth token", "ya29.a0AfH6SMBx3kD9fQ1zZ0yR8uLp2Wc"],
    ["anthropic key", "sk-ant-api03-AbCdEfGhIjKlMnOpQrStUvWx"],
    ["openai project key", "sk-proj-AbCdEfGhIjKlMnOpQrStUvWx"],
    ["openai legacy key", `sk-${"Ab3".repeat(16)}`],
    ["github token", `ghp_${"a".repeat(36)}`],
    ["github token followed by an underscore", `ghp_${"a".repeat(36)}_x`, "a".repeat(36)],
    ["github fine-grained token", `github_pat_11ABCDEFG0${"x".repeat(40)}`],
    ["gitlab token", "glpat-abcdefghijklmnopqrst"],
    ["slack bot token", "xoxb-123456789012-1234567890123-AbCdEfGhIjKlMnOp"],
    ["slack user token", "xoxp-123456789012-1234567890123-AbCdEfGhIj"],
    ["slack legacy token", "xoxs-1234567890-abcdefabcdef"],
    ["slack app-level token", "xoxa-2-1234567890-abcdefabcdef"],
    [
      "slack webhook",
      "https://hooks.slack.com/services/T00000000/B00000000/XXXXXXXXXXXXXXXXXXXXXXXX",
      "T00000000/B00000000/XXXXXXXXXXXXXXXXXXXXXXXX",
    ],
    ["stripe key", "sk_live_4eC39HqLyjWDarjtT1zdp7dc"],
    ["npm token", `npm_${"A1b2".repeat(9)}`],
    ["hugging face token", `hf_${"aB3".repeat(11)}`],
    ["jwt", "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U"],
    ["bearer", "Authorization: Bearer abcdefghijklmnopqrstuvwxyz012345", "abcdefghijklmnopqrstuvwxyz012345"],
    ["basic auth", "Authorization: Basic dXNlcjpodW50ZXIyMjIy", "dXNlcjpodW50ZXIyMjIy"],
    ["https credentials", "https://admin:S3cretPassw0rd@example.com/path", "S3cretPassw0rd"],
    ["postgres credentials", "postgres://app:hunter2@db.internal:5432/prod", "hunter2"],
    ["redis password only", "redis://:r3disPassw0rd@cache.internal:6379", "r3disPassw0rd"],
    ["amqp credentials with an @ in the password", "amqps://user:p@ss@mq.internal/vhost", "p@ss"],
    ["password assignment", "password=hunter22", "hunter22"],
    ["api_key assignment", "API_KEY=abc123def456", "abc123def456"],
    ["json password field", `{"password": "correct horse battery staple"}`, "correct horse battery staple"],
    ["json db_password field", `{"db_password":"Tr0ub4dor&3"}`, "Tr0ub4dor&3"],
    ["yaml password field", "database:\n  password: Tr0ub4dor3\n", "Tr0ub4dor3"],
    ["yaml client_secret in single quotes", "client_secret: 'abc def ghi'", "abc def ghi"],
    ["env secret", "DATABASE_URL=mysql://localhost/app", "mysql://localhost/app"],
    ["rsa key", `-----BEGIN RSA PRIVATE KEY-----\n${PEM_BODY}\n-----END RSA PRIVATE KEY-----`, PEM_BODY],
    ["pkcs8 key", `-----BEGIN PRIVATE KEY-----\n${PEM_BODY}\n-----END PRIVATE KEY-----`, PEM_BODY],
    [
      "encrypted key",
      `-----BEGIN ENCRYPTED PRIVATE KEY-----\n${PEM_BODY}\n-----END ENCRYPTED PRIVATE KEY-----`,
      PEM_BODY,
    ],
    [
      "openssh key",
      `-----BEGIN OPENSSH PRIVATE KEY-----\n${PEM_BODY}\n-----END OPENSSH PRIVATE KEY-----`,
      PEM_BODY,
    ],
    [
      "pgp key",
      `-----BEGIN PGP PRIVATE KEY BLOCK-----\n${PEM_BODY}\n-----END PGP PRIVATE KEY BLOCK-----`,
      PEM_BODY,
    ],
    ["key block cut short", `-----BEGIN EC PRIVATE KEY-----\n${PEM_BODY}`, PEM_BODY],
    ["key block whose start is cut off", `${PEM_BODY}\n-----END EC PRIVATE KEY-----`, PEM_BODY],
  ])("redacts a %s", (_name, secret, part = secret) => {
    const { text, count } = redactor.redactText(`before ${secret} after`);
    expect(count).toBeGreaterThanOrEqual(1);
    expect(text).toContain("[REDACTED]");
    expect(text).not.toContain(part);
  });

  it("keeps what is not secret around a credential: the scheme and host, the key and its quotes", () => {
    expect(redactor.redactText("clone https://admin:pw1234@git.example.com/repo.git").text).toBe(
      "clone https://[REDACTED]@git.example.com/repo.git",
    );
    expect(redactor.redactText('{"password": "hunter2", "user": "bob"}').text).toBe(
      '{"password": "[REDACTED]", "user": "bob"}',
    );
    expect(redactor.redactText("Authorization: Bearer abcdefghijklmnopqrstuvwxyz").text).toBe(
      "Authorization: Bearer [REDACTED]",
    );
  });

  it("leaves ordinary text, URLs without credentials and token counters alone", () => {
    for (const text of [
      "sk-short and a normal sentence about tokens and passwords",
      "see https://example.com/a/b?c=d and git@github.com:org/repo.git",
      '{"inputTokens": 12, "outputTokens": 3, "tokenUsage": {"cacheReadTokens": 0}}',
      "the password field is required; tokens: 5",
      "is_secret: true",
      "interface Options { token: string; apiKey?: string; password: String }",
      "password = None",
      // biome-ignore lint/suspicious/noTemplateCurlyInString: a shell reference, not a template
      "password=$DB_PASSWORD and API_KEY=${API_KEY}",
      // biome-ignore lint/suspicious/noTemplateCurlyInString: a CI reference, not a template
      "token: ${{ secrets.GITHUB_TOKEN }}",
      "password: <your password>",
    ]) {
      expect(redactor.redactText(text)).toEqual({ text, count: 0 });
    }
  });

  it("counts a secret once, and a second pass over redacted text finds nothing", () => {
    const once = redactor.redactText("aws_secret_access_key=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY");
    expect(once.count).toBe(1);
    expect(redactor.redactText(once.text)).toEqual({ text: once.text, count: 0 });
    const categorized = new Redactor({ replacement: "categorized" });
    const url = categorized.redactText("postgres://u:pw@h/db");
    expect(url.text).toBe("postgres://[REDACTED:url_credentials]@h/db");
    expect(categorized.redactText(url.text).count).toBe(0);
  });

  it("goes through long lines built to make a pattern backtrack, finding the secret at their end", () => {
    // Before the JWT pattern was anchored, "-eyJ" × 65,536 alone took about 45 s (quadratic).
    const jwt =
      "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U";
    for (const filler of ["-eyJ", "://a:", 'password: "', "xoxb-", "-----BEGIN ", ".eyJaaaaaaaaaaa"]) {
      const line = `${filler.repeat(Math.ceil(262_144 / filler.length))} ${jwt}`;
      expect(redactor.redactText(line).text).not.toContain(jwt.slice(-20));
    }
  });

  it("applies a custom pattern with a backreference (it cannot join the detectors)", () => {
    const custom = new Redactor({ patterns: [{ category: "pair", regex: /(\w)\1{7,}/g }] });
    expect(custom.redactText("x aaaaaaaaaa y")).toEqual({ text: "x [REDACTED] y", count: 1 });
  });

  it("rejects a pattern without the global flag and an empty replacement", () => {
    expect(() => new Redactor({ extraPatterns: [{ category: "x", regex: /x/ }] })).toThrow(/g flag/);
    expect(() => new Redactor({ replacement: "" })).toThrow(/empty/);
  });
});

describe("Redactor values", () => {
  const redactor = new Redactor();

  it("scans nested data without mutating it, keeps key order and reports the changed paths", () => {
    const data = {
      toolName: "bash",
      toolInput: { command: ["curl", "-H", "Authorization: Bearer abcdefghijklmnopqrstuvwxyz"], env: "ok" },
      toolCallId: "1",
    };
    const result = redactor.redactValue(data, "data");
    expect(result.value).toEqual({
      toolName: "bash",
      toolInput: { command: ["curl", "-H", "Authorization: Bearer [REDACTED]"], env: "ok" },
      toolCallId: "1",
    });
    expect(Object.keys(result.value)).toEqual(["toolName", "toolInput", "toolCallId"]);
    expect(result.count).toBe(1);
    expect(result.fields).toEqual(["data.toolInput.command[2]"]);
    expect(data.toolInput.command[2]).toContain("abcdefghijklmnopqrstuvwxyz");
  });

  it("redacts the values of sensitive keys, whatever they look like", () => {
    const result = redactor.redactValue({
      password: "hunter2",
      apiKey: "plain-looking",
      headers: { "X-Api-Key": "k-123", Authorization: "token abc" },
      AWS_SECRET_ACCESS_KEY: "xyz",
      maxTokens: 100,
      inputTokens: "12",
      author: "Ada",
    });
    expect(result.value).toEqual({
      password: "[REDACTED]",
      apiKey: "[REDACTED]",
      headers: { "X-Api-Key": "[REDACTED]", Authorization: "[REDACTED]" },
      AWS_SECRET_ACCESS_KEY: "[REDACTED]",
      maxTokens: 100,
      inputTokens: "12",
      author: "Ada",
    });
    expect(result.fields).toEqual([
      "password",
      "apiKey",
      "headers.X-Api-Key",
      "headers.Authorization",
      "AWS_SECRET_ACCESS_KEY",
    ]);
  });

  it("redacts secrets used as object keys, keeping two redacted keys apart", () => {
    const result = redactor.redactValue(
      { AKIAIOSFODNN7EXAMPLE: 1, [`ghp_${"b".repeat(36)}`]: { nested: true }, plain: 3 },
      "metadata",
    );
    expect(result.value).toEqual({ "[REDACTED]": 1, "[REDACTED]#2": { nested: true }, plain: 3 });
    expect(result.fields).toEqual(["metadata.[REDACTED]", "metadata.[REDACTED]#2"]);
    expect(JSON.stringify(result.value)).not.toMatch(/AKIA|ghp_/);
  });

  it("replaces values nested beyond the depth cap, at any depth, without overflowing the stack", () => {
    let deep: unknown = { secret: "AKIAIOSFODNN7EXAMPLE" };
    for (let level = 0; level < 100_000; level++) deep = { next: deep };
    const result = redactor.redactValue({ top: "fine", deep }, "data");
    const text = JSON.stringify(result.value, (_key, value) => value, 0);
    expect(text).not.toContain("AKIAIOSFODNN7EXAMPLE");
    expect(result.count).toBe(1);
    const expectedPath = `data.deep${".next".repeat(REDACTION_MAX_DEPTH - 1)}`;
    expect(result.fields).toEqual([expectedPath]);
    let node = (result.value as { deep: unknown }).deep;
    for (let level = 1; level < REDACTION_MAX_DEPTH; level++) node = (node as { next: unknown }).next;
    expect(node).toBe("[REDACTED]");
  });

  it("keeps a __proto__ field as a field", () => {
    const parsed = JSON.parse('{"__proto__": {"password": "x"}, "a": 1}') as Record<string, unknown>;
    const result = redactor.redactValue(parsed);
    expect(Object.getPrototypeOf(result.value)).toBe(Object.prototype);
    expect(JSON.stringify(result.value)).toBe('{"__proto__":{"password":"[REDACTED]"},"a":1}');
  });

  it("redacts what toJSON gives (a Buffer's bytes are not a secret; a Date stays a Date)", () => {
    const at = new Date("2026-01-01T00:00:00.000Z");
    const custom = { toJSON: () => ({ token: "abc" }) };
    const result = redactor.redactValue({ at, custom });
    expect(result.value).toEqual({ at, custom: { token: "[REDACTED]" } });
  });
});

describe("Redactor records", () => {
  const redactor = new Redactor({ replacement: "categorized" });

  it("redacts an event's data and metadata and records what it changed", () => {
    const result = redactor.redactEvent({
      type: "message_received",
      data: { role: "assistant", content: "AKIAIOSFODNN7EXAMPLE" },
      metadata: { note: "ghp_aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", plain: 1 },
    });
    expect(result.value.data).toEqual({ role: "assistant", content: "[REDACTED:aws_access_key]" });
    expect(result.value.metadata).toEqual({
      note: "[REDACTED:github_token]",
      plain: 1,
      redactions: 2,
      redactedFields: ["data.content", "metadata.note"],
    });
    const clean = { type: "run_started", data: { model: "m" }, metadata: {} };
    expect(redactor.redactEvent(clean).value).toBe(clean);
  });

  it("redacts a session's metadata, context and tags", () => {
    const session: Session = {
      id: "ses_1",
      agentId: "a",
      status: "pending",
      metadata: { owner: "me", dsn: "postgres://u:pw@h/db" },
      context: { repo: "x", token: "t0k3n" },
      tags: ["ci", "xoxb-123456789012-abcdefghij"],
      createdAt: "2026-01-01T00:00:00.000Z",
      updatedAt: "2026-01-01T00:00:00.000Z",
    };
    const result = redactor.redactSession(session);
    expect(result.value).toEqual({
      ...session,
      metadata: {
        owner: "me",
        dsn: "postgres://[REDACTED:url_credentials]@h/db",
        redactedFields: ["metadata.dsn", "context.token", "tags[1]"],
      },
      context: { repo: "x", token: "[REDACTED:sensitive_field]" },
      tags: ["ci", "[REDACTED:slack_token]"],
    });
  });

  it("redacts a run's input, output, error, metadata and provider metadata; fields accumulate over saves", () => {
    const run: Run = {
      id: "run_1",
      sessionId: "ses_1",
      status: "failed",
      input: { prompt: "use AKIAIOSFODNN7EXAMPLE" },
      output: { content: "password=hunter22" },
      error: {
        code: "provider_error",
        message: "bad",
        providerError: {
          provider: "p",
          kind: "process_error",
          message: "x",
          stderr: "sk-ant-api03-abcdefghijklmnopqrstu",
        },
      } as Run["error"] & object,
      metadata: { redactedFields: ["input.messages[0].content"], extra: { apiKey: "k" } },
      turnCount: 0,
      tokenUsage: { inputTokens: 0, outputTokens: 0 },
      costUsd: null,
      providerMetadata: { model: "m", session: "Bearer abcdefghijklmnopqrstuvwxyz" },
      createdAt: "2026-01-01T00:00:00.000Z",
    };
    const result = redactor.redactRun(run);
    expect(result.count).toBe(5);
    expect(JSON.stringify(result.value)).not.toMatch(/AKIA|hunter22|sk-ant|abcdefghijklmnopqrstuvwxyz/);
    expect(result.value.metadata.redactedFields).toEqual([
      "input.messages[0].content",
      "input.prompt",
      "output.content",
      "error.providerError.stderr",
      "metadata.extra.apiKey",
      "providerMetadata.session",
    ]);
    expect(redactor.redactRun(result.value).count).toBe(0);
  });

  it("redacts a whole export, naming fields by their place in it", () => {
    const exported = {
      session: {
        id: "s",
        agentId: "a",
        status: "completed" as const,
        metadata: {},
        context: {},
        tags: ["AKIAIOSFODNN7EXAMPLE"],
        createdAt: "2026-01-01T00:00:00.000Z",
        updatedAt: "2026-01-01T00:00:00.000Z",
      },
      runs: [],
      events: [{ type: "message_streamed", data: { delta: "password=hunter22" }, metadata: {}, sequence: 4 }],
    };
    const result = redactor.redactSessionExport(exported);
    expect(result.fields).toEqual(["session.tags[0]", "events[0].data.delta"]);
    expect(result.value.events[0]).toMatchObject({ sequence: 4, metadata: { redactions: 1 } });
  });
});

// Secrets redaction: with `new SessionManager({ redaction: true })` API keys, tokens, passwords,
// private keys and credentials in URLs are replaced before anything is stored — in the prompt,
// tool inputs and outputs, answers, session metadata — while the provider still gets the input as
// given. Each redacted event says what changed (`metadata.redactions`, `metadata.redactedFields`).
// A `Redactor` does the same to any text or value.
//
// Checks: with redaction on, none of the four secrets is anywhere in the database file (its
// bytes, WAL included), in the stored events, run or session, nor in what `onEvent` received;
// the scripted provider did receive the prompt's secret; with redaction off (the default) the
// same run stores them; `Redactor.redactText` names each category.
//
//   npx tsx examples/secrets-redaction.ts                    # a scripted Claude CLI
//   npx tsx examples/secrets-redaction.ts --provider claude  # the real claude CLI
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import type { AsmEvent } from "agent-session-manager";
import { Redactor, SessionManager } from "agent-session-manager";
import { openSqliteStore } from "agent-session-manager/sqlite";
import { check, createMainAgent, type ExampleAgent, runExample, tempDir } from "./support.js";

// Made-up secrets in the shapes the default patterns know.
const GITHUB_TOKEN = `ghp_${"a1B2c3D4e5".repeat(4)}`;
const ANTHROPIC_KEY = `sk-ant-api03-${"Zy9Xw8Vu7T".repeat(4)}`;
const AWS_KEY = "AKIAIOSFODNN7EXAMPLE";
const DB_PASSWORD = "hunter2-correct-horse";
const SECRETS = [GITHUB_TOKEN, ANTHROPIC_KEY, AWS_KEY, DB_PASSWORD];

runExample(async () => {
  const agent = createMainAgent({
    command: `curl -H "Authorization: Bearer ${GITHUB_TOKEN}" https://api.github.com/user`,
    commandOutput: `{"login":"octocat","note":"deploy key ${AWS_KEY}"}`,
    answer: `Connected. The database is postgres://admin:${DB_PASSWORD}@db.internal:5432/app.`,
  });

  const redacted = await runWithSecrets(agent, true);
  console.log(
    `redaction on: ${redacted.found.length} of ${SECRETS.length} secrets in the database file, ${redacted.inEvents} in stored events`,
  );
  console.log(`  ${redacted.count} replacements; fields: ${redacted.fields.join(", ")}`);
  check(redacted.found.length === 0 && redacted.inEvents === 0, "no secret stored");
  check(redacted.count > 0, "the events say what was redacted");
  const given = agent.lastInvocation();
  if (given !== undefined) {
    check(JSON.stringify(given.stdin).includes(ANTHROPIC_KEY), "the provider got the prompt as given");
    console.log("  the provider was given the prompt with its key (redaction changes what is stored only)");
  }

  const plain = await runWithSecrets(agent, false);
  console.log(`redaction off: ${plain.found.length} of ${SECRETS.length} secrets in the database file`);
  if (!agent.live) check(plain.found.length === SECRETS.length, "without redaction every secret is stored");

  const redactor = new Redactor({ replacement: "categorized" });
  const text = `token ${GITHUB_TOKEN}, key ${ANTHROPIC_KEY}, url postgres://admin:${DB_PASSWORD}@db/app`;
  const { text: clean, count } = redactor.redactText(text);
  console.log(`Redactor: ${clean}`);
  check(count === 3 && SECRETS.every((secret) => !clean.includes(secret)), "redactText removed all three");
});

/** Runs one session with secrets in its prompt, metadata, tool call and answer; what was stored. */
async function runWithSecrets(agent: ExampleAgent, redaction: boolean) {
  const dir = tempDir(redaction ? "redacted" : "plain");
  const store = await openSqliteStore({ path: path.join(dir, "asm.db") });
  const received: AsmEvent[] = [];
  let stored: AsmEvent[];
  try {
    const manager = new SessionManager({ store, adapter: agent.adapter, redaction });
    const result = await manager.runOnce(
      `Check the deploy with the key ${ANTHROPIC_KEY}: run the curl command, then tell me the database URL.`,
      {
        sessionMetadata: { apiKey: ANTHROPIC_KEY, note: "deploy check" },
        onEvent: (event) => received.push(event),
      },
    );
    stored = await store.getEvents(result.sessionId, { limit: 1000 });
    const records = JSON.stringify([
      stored,
      await store.getRun(result.runId),
      await store.getSession(result.sessionId),
    ]);
    if (redaction) {
      check(
        SECRETS.every((secret) => !records.includes(secret)),
        "no secret in the stored records",
      );
      check(
        SECRETS.every((secret) => !JSON.stringify(received).includes(secret)),
        "onEvent got the redacted events",
      );
    }
  } finally {
    await store.close();
  }
  // The database's own bytes: the main file and anything still in the write-ahead log.
  const bytes = readdirSync(dir)
    .filter((name) => name.startsWith("asm.db"))
    .map((name) => readFileSync(path.join(dir, name)).toString("latin1"))
    .join("");
  const events = JSON.stringify(stored);
  return {
    found: SECRETS.filter((secret) => bytes.includes(secret)),
    inEvents: SECRETS.filter((secret) => events.includes(secret)).length,
    count: stored.reduce((total, event) => total + Number(event.metadata.redactions ?? 0), 0),
    fields: [
      ...new Set(
        stored.flatMap((event) =>
          Array.isArray(event.metadata.redactedFields) ? event.metadata.redactedFields.map(String) : [],
        ),
      ),
    ],
  };
}

/**
 * Secrets to plant in every persisted field, and the fingerprints to grep raw storage for.
 *
 * Each placement (a field: session context, run output, a split delta …) gets its own salt, and
 * every secret's random part is derived from (salt, kind), so a fingerprint found in a database
 * file names the one field it leaked from — and with redaction off, each field's fingerprints
 * must all be found, which proves the grep can see that field at all. Fingerprints are plain
 * [A-Za-z0-9] so no JSON, SQL or COPY escaping can hide them.
 */
import { createHash } from "node:crypto";

export interface PlantedSecret {
  kind: string;
  /** The text as an agent would print it (prefix, key, quotes and all). */
  text: string;
  /** The random part: it must not be stored anywhere. Always ≥ 24 characters. */
  secret: string;
}

const ALNUM = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
const UPPER_DIGITS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";

/** `length` characters of `alphabet`, fixed by (salt, kind). */
function random(salt: string, kind: string, length: number, alphabet = ALNUM): string {
  let out = "";
  for (let block = 0; out.length < length; block++) {
    for (const byte of createHash("sha256").update(`${salt}:${kind}:${block}`).digest()) {
      out += alphabet[byte % alphabet.length];
    }
  }
  return out.slice(0, length);
}

function pem(label: string, body: string): string {
  return `-----BEGIN ${label}-----\n${body}\n-----END ${label}-----`;
}

type Kind = [kind: string, length: number, make: (secret: string) => string, alphabet?: string];

/** The kinds of secret planted: 27 patterns an agent transcript may carry. */
const KINDS: readonly Kind[] = [
  // One word character more than the key itself: the old word-boundary bug let it through whole.
  ["aws_access_key_plus_one", 24, (s) => `AKIA${s}`, UPPER_DIGITS],
  ["aws_temporary_key", 24, (s) => `ASIA${s}`, UPPER_DIGITS],
  ["aws_secret_assignment", 40, (s) => `aws_secret_access_key=${s}`],
  ["gcp_api_key_plus_one", 36, (s) => `AIza${s}`],
  ["anthropic_key", 40, (s) => `sk-ant-api03-${s}`],
  ["openai_project_key", 40, (s) => `sk-proj-${s}`],
  ["github_token", 36, (s) => `ghp_${s}`],
  ["github_fine_grained_token", 40, (s) => `github_pat_11${s}`],
  ["gitlab_token", 24, (s) => `glpat-${s}`],
  ["slack_bot_token", 32, (s) => `xoxb-123456789012-${s}`],
  ["slack_webhook", 24, (s) => `https://hooks.slack.com/services/T01/B02/${s}`],
  ["stripe_key", 28, (s) => `sk_live_${s}`],
  ["npm_token", 36, (s) => `npm_${s}`],
  ["huggingface_token", 34, (s) => `hf_${s}`],
  ["jwt", 32, (s) => `eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhZ2VudCJ9.${s}`],
  ["bearer_token", 32, (s) => `curl -H "Authorization: Bearer ${s}" https://api.example.com`],
  ["basic_auth", 24, (s) => `Authorization: Basic ${s}`],
  ["rsa_private_key", 64, (s) => pem("RSA PRIVATE KEY", s)],
  ["openssh_private_key", 64, (s) => pem("OPENSSH PRIVATE KEY", s)],
  ["encrypted_private_key", 64, (s) => pem("ENCRYPTED PRIVATE KEY", s)],
  ["https_url_credentials", 24, (s) => `git clone https://admin:${s}@git.example.com/repo.git`],
  ["postgres_url_credentials", 24, (s) => `postgres://app:${s}@db.internal:5432/prod`],
  ["redis_url_password", 24, (s) => `redis://:${s}@cache.internal:6379/0`],
  ["json_password_field", 24, (s) => `{"password": "${s}", "user": "app"}`],
  ["yaml_password_field", 24, (s) => `database:\n  password: ${s}\n  host: db`],
  ["api_key_assignment", 24, (s) => `API_KEY=${s}`],
  ["env_database_url", 24, (s) => `DATABASE_URL=mysql://root@db/${s}`],
];

/** Every kind of secret, salted for one placement. */
export function plantedSecrets(salt: string): PlantedSecret[] {
  return KINDS.map(([kind, length, make, alphabet]) => {
    const secret = random(salt, kind, length, alphabet);
    return { kind, text: make(secret), secret };
  });
}

/** All of a placement's secrets in one text, one per line, as a tool's output would carry them. */
export function secretBlob(salt: string): string {
  return plantedSecrets(salt)
    .map((planted) => `${planted.kind}: ${planted.text}`)
    .join("\n");
}

/** An object carrying a placement's secrets every way a JSON value can: values, credential-named keys, keys. */
export function secretObject(salt: string): Record<string, unknown> {
  const planted = plantedSecrets(salt);
  return {
    blob: secretBlob(salt),
    list: planted.map((entry) => entry.text),
    // A value that looks like nothing: only its key says it is a credential.
    password: sensitiveValue(salt, "password"),
    apiKey: sensitiveValue(salt, "apiKey"),
    keys: Object.fromEntries(planted.map((entry) => [entry.text, entry.kind])),
  };
}

/** The random value of a credential-named key; a fingerprint like the others. */
export function sensitiveValue(salt: string, key: string): string {
  return random(salt, `sensitive:${key}`, 24);
}

/** What must not be stored for a placement given whole: every secret of `secretObject(salt)`. */
export function fingerprints(salt: string): string[] {
  return [
    ...plantedSecrets(salt).map((planted) => planted.secret),
    sensitiveValue(salt, "password"),
    sensitiveValue(salt, "apiKey"),
  ];
}

/**
 * A placement's secrets streamed with each one cut in the middle of its random part, into
 * consecutive deltas; its fingerprints are the halves (either alone would be a leak).
 */
export function splitDeltas(salt: string): { deltas: string[]; fingerprints: string[] } {
  const deltas: string[] = [];
  const halves: string[] = [];
  for (const planted of plantedSecrets(salt)) {
    const at = planted.text.indexOf(planted.secret) + Math.floor(planted.secret.length / 2);
    deltas.push(`${planted.kind}: ${planted.text.slice(0, at)}`, `${planted.text.slice(at)}\n`);
    const middle = Math.floor(planted.secret.length / 2);
    halves.push(planted.secret.slice(0, middle), planted.secret.slice(middle));
  }
  return { deltas, fingerprints: halves };
}

/** Which fingerprints occur in `haystack`. */
export function found(haystack: string, prints: readonly string[]): string[] {
  return prints.filter((print) => haystack.includes(print));
}

/**
 * A named secret pattern. Its regex must be global (`g`). The whole match is replaced, except a
 * leading named group `keep` (say `password: "` or `https://`), which stays so the text keeps
 * its shape and a reader sees what was there.
 */
export interface RedactionPattern {
  category: string;
  regex: RegExp;
}

/** Keys of JSON/YAML/`key=value` fields whose value is a credential. */
const CREDENTIAL_KEY =
  "(?:password|passwd|passphrase|secret|token|api[_-]?key|access[_-]?key|secret[_-]?key|private[_-]?key|client[_-]?secret|credentials?)";

/** Words that follow `token:` or `password =` in code and config without being a secret. */
const NOT_A_VALUE =
  "(?:true|false|null|none|nil|undefined|string|number|boolean|bool|str|int|float|any|unknown|object|bytes)";

/** What a private key block's header and footer look like (RSA, EC, DSA, OPENSSH, ENCRYPTED, PGP …). */
const KEY_BLOCK_LABEL = "[A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----";

/**
 * Secrets commonly seen in agent transcripts: cloud keys, tokens, private keys, credentials in
 * URLs and in JSON/YAML/env fields. Order matters: key blocks first (their base64 body could
 * look like other tokens), field values last (a token pattern names the category better).
 * Token patterns end greedily, never at a word boundary: a key followed by one more word
 * character must not slip through whole.
 */
export const DEFAULT_REDACTION_PATTERNS: readonly RedactionPattern[] = [
  {
    category: "private_key",
    regex: new RegExp(`-----BEGIN${KEY_BLOCK_LABEL}[\\s\\S]*?(?:-----END${KEY_BLOCK_LABEL}|$)`, "g"),
  },
  // The end of a block whose start is not in this text (a file read from an offset).
  { category: "private_key", regex: new RegExp(`^[\\s\\S]*?-----END${KEY_BLOCK_LABEL}`, "g") },
  // user:password@ in a URL of any scheme (https, postgres, redis, amqp, …); the host stays.
  {
    category: "url_credentials",
    regex: /(?<keep>:\/\/)[^\s/?#@"'<>]{0,256}:[^\s/?#"'<>]{0,512}(?=@)/g,
  },
  { category: "aws_access_key", regex: /(?:AKIA|ASIA|ABIA|ACCA)[A-Z0-9]{16,}/g },
  {
    category: "aws_secret_key",
    regex: /(?<keep>aws_?secret_?access_?key["']?\s*[:=]\s*["']?)[A-Za-z0-9/+=]{20,}/gi,
  },
  { category: "gcp_api_key", regex: /AIza[0-9A-Za-z_-]{35,}/g },
  { category: "google_oauth_token", regex: /\bya29\.[0-9A-Za-z_-]{20,}/g },
  { category: "anthropic_key", regex: /\bsk-ant-[A-Za-z0-9_-]{20,}/g },
  { category: "openai_key", regex: /\bsk-(?:proj|svcacct|admin)-[A-Za-z0-9_-]{20,}/g },
  { category: "openai_legacy_key", regex: /\bsk-[A-Za-z0-9]{32,}/g },
  { category: "github_token", regex: /\bgh[pousr]_[A-Za-z0-9]{36,}/g },
  { category: "github_fine_pat", regex: /\bgithub_pat_[A-Za-z0-9_]{22,}/g },
  { category: "gitlab_token", regex: /\bglpat-[A-Za-z0-9_-]{20,}/g },
  { category: "slack_token", regex: /\bxox[abposr]-[A-Za-z0-9-]{10,}/g },
  { category: "slack_app_token", regex: /\bxapp-[0-9]-[A-Za-z0-9-]{10,}/g },
  {
    category: "slack_webhook",
    regex: /(?<keep>hooks\.slack\.com\/(?:services|workflows)\/)[A-Za-z0-9/_-]{8,}/g,
  },
  { category: "stripe_key", regex: /\b[rs]k_(?:live|test)_[A-Za-z0-9]{16,}/g },
  { category: "npm_token", regex: /\bnpm_[A-Za-z0-9]{36,}/g },
  { category: "huggingface_token", regex: /\bhf_[A-Za-z0-9]{30,}/g },
  // Starts only where a base64url run starts: from inside one ("-eyJ-eyJ…") each start would
  // rescan the run for its dot, quadratic in a long line.
  {
    category: "jwt_token",
    regex: /(?<![A-Za-z0-9_-])eyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}/g,
  },
  { category: "bearer_token", regex: /(?<keep>\bBearer\s+)[A-Za-z0-9._~+/=-]{16,}/gi },
  {
    category: "basic_auth",
    regex: /(?<keep>\bAuthorization["']?\s*[:=]\s*["']?Basic\s+)[A-Za-z0-9+/]{8,}={0,2}/gi,
  },
  {
    category: "env_secret",
    regex: /(?<keep>\b(?:DATABASE_URL|REDIS_URL|SECRET_KEY_BASE|ENCRYPTION_KEY)\s*=\s*)\S+/g,
  },
  // "password": "…", password: '…', api_key=… (JSON, YAML, env, query strings); the quotes stay.
  {
    category: "credential_field",
    regex: new RegExp(`(?<keep>${CREDENTIAL_KEY}["']?\\s*[:=]\\s*")(?:[^"\\\\\\n]|\\\\.){1,1024}(?=")`, "gi"),
  },
  {
    category: "credential_field",
    regex: new RegExp(`(?<keep>${CREDENTIAL_KEY}["']?\\s*[:=]\\s*')[^'\\n]{1,1024}(?=')`, "gi"),
  },
  // Unquoted, the value must look like one: not a reference (`$DB_PASSWORD`, `${{ secrets.X }}`,
  // `<your token>`), a literal or a type (`token: string;` in code is not a secret).
  {
    category: "credential_field",
    regex: new RegExp(
      `(?<keep>${CREDENTIAL_KEY}["']?[ \\t]*[:=][ \\t]*)(?![$<{(]|${NOT_A_VALUE}\\b)[^\\s"',;}\\])]{3,}`,
      "gi",
    ),
  },
];

/**
 * Object keys whose string value is a credential whatever it looks like (`password`,
 * `apiKey`, `AWS_SECRET_ACCESS_KEY`, `x-api-key`, `Authorization`, `client_secret` …). It is
 * matched against the key in snake_case, lower case: `accessToken` is tested as `access_token`.
 */
export const DEFAULT_SENSITIVE_KEY_PATTERN =
  /(?:^|_)(?:password|passwd|passphrase|pass|secret|token|api_?key|access_?key|secret_?key|private_?key|client_?secret|credentials?|authorization|auth|cookie|set_cookie)$/;

/** `accessToken`, `X-Api-Key`, `db.password` → `access_token`, `x_api_key`, `db_password`. */
export function snakeCaseKey(key: string): string {
  return key
    .replace(/([a-z0-9])([A-Z])/g, "$1_$2")
    .replace(/[-. ]/g, "_")
    .toLowerCase();
}

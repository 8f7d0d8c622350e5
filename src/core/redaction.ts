import type { EventType } from "./events.js";

/** A named secret pattern. Its regex must be global (`g`); the whole match is replaced. */
export interface RedactionPattern {
  category: string;
  regex: RegExp;
}

/** Secrets commonly seen in agent transcripts: cloud keys, tokens, passwords, DSNs, PEM keys. */
export const DEFAULT_REDACTION_PATTERNS: readonly RedactionPattern[] = [
  { category: "aws_access_key", regex: /\bAKIA[0-9A-Z]{16}\b/g },
  { category: "aws_secret_key", regex: /aws_secret_access_key\s*[:=]\s*["']?[A-Za-z0-9/+=]{20,}["']?/gi },
  { category: "gcp_api_key", regex: /\bAIza[0-9A-Za-z_-]{35}\b/g },
  { category: "anthropic_key", regex: /\bsk-ant-[A-Za-z0-9_-]{20,}/g },
  { category: "openai_key", regex: /\bsk-proj-[A-Za-z0-9_-]{20,}/g },
  { category: "openai_legacy_key", regex: /\bsk-[A-Za-z0-9]{40,}\b/g },
  { category: "github_token", regex: /\bgh[pousr]_[A-Za-z0-9]{36,}\b/g },
  { category: "github_fine_pat", regex: /\bgithub_pat_[A-Za-z0-9_]{22,}\b/g },
  { category: "gitlab_token", regex: /\bglpat-[A-Za-z0-9_-]{20,}\b/g },
  { category: "jwt_token", regex: /\beyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}\b/g },
  { category: "bearer_token", regex: /\bBearer\s+[A-Za-z0-9._~+/=-]{20,}/g },
  {
    category: "private_key",
    regex:
      /-----BEGIN (?:RSA |EC |DSA |OPENSSH )?PRIVATE KEY-----[\s\S]*?(?:-----END (?:RSA |EC |DSA |OPENSSH )?PRIVATE KEY-----|$)/g,
  },
  {
    category: "connection_string",
    regex: /\b(?:postgres|postgresql|mysql|redis|rediss|mongodb(?:\+srv)?|amqps?|mssql):\/\/[^\s"'<>]+/gi,
  },
  {
    category: "env_secret",
    regex: /\b(?:DATABASE_URL|REDIS_URL|SECRET_KEY_BASE|ENCRYPTION_KEY|PRIVATE_KEY)\s*=\s*\S+/g,
  },
  {
    category: "credential_assignment",
    regex:
      /\b(?:password|passwd|pwd|api[_-]?key|apikey|secret[_-]?key|access[_-]?token|auth[_-]?token)\s*[:=]\s*["']?[^\s"',;]{4,}["']?/gi,
  },
];

export interface RedactionOptions {
  /** Patterns to apply. Default: `DEFAULT_REDACTION_PATTERNS`. */
  patterns?: readonly RedactionPattern[];
  /** Extra patterns applied after `patterns`. Default none. */
  extraPatterns?: readonly RedactionPattern[];
  /** Replacement text, or `"categorized"` for `[REDACTED:<category>]`. Default `"[REDACTED]"`. */
  replacement?: string | "categorized";
  /** Also scan event metadata. Default false. */
  scanMetadata?: boolean;
}

/**
 * Event types that carry only ids, counters and lifecycle facts; scanning them would cost time
 * on the hot path (token updates are frequent) and find nothing.
 */
const UNSCANNED_TYPES: ReadonlySet<EventType> = new Set<EventType>([
  "session_created",
  "session_started",
  "session_paused",
  "session_resumed",
  "session_completed",
  "session_cancelled",
  "run_cancelled",
  "run_timeout",
  "token_usage_updated",
  "turn_completed",
  "workspace_snapshot_taken",
  "workspace_diff_computed",
  "error_recovered",
]);

const MAX_DEPTH = 16;

/** Replaces secrets in event data before it is persisted. Pure: inputs are never mutated. */
export class Redactor {
  private readonly patterns: readonly RedactionPattern[];
  private readonly replacement: string | "categorized";
  private readonly scanMetadata: boolean;

  constructor(options: RedactionOptions = {}) {
    this.patterns = [...(options.patterns ?? DEFAULT_REDACTION_PATTERNS), ...(options.extraPatterns ?? [])];
    for (const { category, regex } of this.patterns) {
      if (!regex.global) throw new TypeError(`redaction pattern ${category} must use the g flag`);
    }
    this.replacement = options.replacement ?? "[REDACTED]";
    this.scanMetadata = options.scanMetadata ?? false;
  }

  /** Redacts a string; returns it with the number of replacements made. */
  redactText(text: string): { text: string; count: number } {
    let count = 0;
    let result = text;
    for (const { category, regex } of this.patterns) {
      result = result.replace(regex, () => {
        count += 1;
        return this.replacement === "categorized" ? `[REDACTED:${category}]` : this.replacement;
      });
    }
    return { text: result, count };
  }

  /** Redacts every string inside a JSON-like value (depth-limited); returns a copy. */
  redactValue<T>(value: T): { value: T; count: number } {
    let count = 0;
    const walk = (node: unknown, depth: number): unknown => {
      if (typeof node === "string") {
        const redacted = this.redactText(node);
        count += redacted.count;
        return redacted.text;
      }
      if (depth >= MAX_DEPTH || node === null || typeof node !== "object") return node;
      if (Array.isArray(node)) return node.map((item) => walk(item, depth + 1));
      const copy: Record<string, unknown> = {};
      for (const [key, item] of Object.entries(node)) copy[key] = walk(item, depth + 1);
      return copy;
    };
    const redacted = walk(value, 0) as T;
    return { value: redacted, count };
  }

  /** Redacts an event's data (and metadata if configured); returns copies and a count. */
  redactEvent<D, M>(type: EventType, data: D, metadata: M): { data: D; metadata: M; count: number } {
    if (UNSCANNED_TYPES.has(type)) return { data, metadata, count: 0 };
    const redactedData = this.redactValue(data);
    if (!this.scanMetadata) return { data: redactedData.value, metadata, count: redactedData.count };
    const redactedMetadata = this.redactValue(metadata);
    return {
      data: redactedData.value,
      metadata: redactedMetadata.value,
      count: redactedData.count + redactedMetadata.count,
    };
  }
}

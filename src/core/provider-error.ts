/** How a provider failed, independent of the provider. */
export const PROVIDER_ERROR_KINDS = [
  "transport_exit",
  "process_error",
  "parse_error",
  "protocol_error",
  "cli_not_found",
  "timeout",
  "authentication",
  "rate_limit",
  "unknown",
] as const;
export type ProviderErrorKind = (typeof PROVIDER_ERROR_KINDS)[number];

/** The stable shape of a provider failure, stored on failed runs and failure events. */
export interface ProviderErrorPayload {
  provider: string;
  kind: ProviderErrorKind;
  message: string;
  exitCode?: number;
  /** The tail of the process's stderr, cut to the configured limits on a UTF-8 boundary. */
  stderr?: string;
  /** True when `stderr` was cut. */
  truncated?: boolean;
}

export interface StderrLimits {
  /** Keep at most this many bytes of stderr (UTF-8). Default 16384. */
  maxBytes?: number;
  /** Keep at most this many trailing lines of stderr. Default 200. */
  maxLines?: number;
}

export const DEFAULT_STDERR_LIMITS: Required<StderrLimits> = { maxBytes: 16_384, maxLines: 200 };

/**
 * Keeps the end of `text`: the last `maxLines` lines, then the last `maxBytes` bytes, never
 * splitting a UTF-8 character. The end is kept because a failing CLI prints its reason last.
 */
export function truncateTail(text: string, limits: StderrLimits = {}): { text: string; truncated: boolean } {
  const { maxBytes, maxLines } = { ...DEFAULT_STDERR_LIMITS, ...limits };
  let result = text;
  let truncated = false;

  const lines = result.split("\n");
  const trailingNewline = lines.at(-1) === "";
  const contentLines = trailingNewline ? lines.slice(0, -1) : lines;
  if (contentLines.length > maxLines) {
    result = contentLines.slice(-maxLines).join("\n") + (trailingNewline ? "\n" : "");
    truncated = true;
  }

  const bytes = Buffer.byteLength(result, "utf8");
  if (bytes > maxBytes) {
    const encoded = Buffer.from(result, "utf8");
    let start = encoded.length - maxBytes;
    // Skip UTF-8 continuation bytes (10xxxxxx) so the kept part starts on a character.
    while (start < encoded.length && ((encoded[start] ?? 0) & 0xc0) === 0x80) start += 1;
    result = encoded.subarray(start).toString("utf8");
    truncated = true;
  }
  return { text: result, truncated };
}

export interface ProviderErrorInput {
  provider: string;
  kind?: ProviderErrorKind;
  message?: string;
  exitCode?: number;
  stderr?: string;
}

/** Builds a payload with stderr cut to size; the message falls back to stderr's last line. */
export function providerErrorPayload(
  input: ProviderErrorInput,
  limits: StderrLimits = {},
): ProviderErrorPayload {
  const payload: ProviderErrorPayload = {
    provider: input.provider,
    kind: input.kind ?? "unknown",
    message: input.message ?? lastNonEmptyLine(input.stderr) ?? "Provider execution failed",
  };
  if (input.exitCode !== undefined) payload.exitCode = input.exitCode;
  if (input.stderr !== undefined && input.stderr.length > 0) {
    const { text, truncated } = truncateTail(input.stderr, limits);
    payload.stderr = text;
    if (truncated) payload.truncated = true;
  }
  return payload;
}

function lastNonEmptyLine(text: string | undefined): string | undefined {
  if (!text) return undefined;
  const lines = text.split("\n");
  for (let i = lines.length - 1; i >= 0; i -= 1) {
    const line = lines[i]?.trim();
    if (line) return line;
  }
  return undefined;
}

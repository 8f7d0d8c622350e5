import { AsmError } from "../../core/errors.js";
import type { PutArtifactOptions } from "../../ports/artifact-store.js";

/**
 * The key and option rules every artifact store shares, so a key that works on one backend works
 * on all of them. (The file store no longer makes paths from keys at all: it names files by the
 * key's hash. The grammar still keeps keys portable to anything that does, such as an export
 * to a folder.)
 */

/** S3's own limit on object keys, in UTF-8 bytes; the file store keeps it too, for portability. */
export const MAX_ARTIFACT_KEY_BYTES = 1024;

/**
 * Longest segment (text between slashes), in UTF-8 bytes: below the 255 bytes file systems allow
 * per name, so a key can still be written out as a path, and every key the file store's first
 * layout held (it used segments as file names, plus a temporary-file suffix) stays valid.
 */
export const MAX_ARTIFACT_KEY_SEGMENT_BYTES = 200;

/** Longest `contentType`: far above any real media type, low enough to keep headers sane. */
export const MAX_CONTENT_TYPE_LENGTH = 255;

/** What `head` reports for an artifact put without a `contentType`. */
export const DEFAULT_ARTIFACT_CONTENT_TYPE = "application/octet-stream";

/** Why a key was rejected: `details.reason` of the `validation_error`. */
export type ArtifactKeyProblem =
  | "not_a_string"
  | "empty"
  | "too_long"
  | "absolute"
  | "empty_segment"
  | "dot_segment"
  | "segment_too_long"
  | "backslash"
  | "control_character"
  | "unpaired_surrogate";

// C0 controls (NUL included) and DEL: invisible in listings, and NUL ends C strings in syscalls.
// biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the point
const CONTROL_CHARACTER = /[\u0000-\u001f\u007f]/;
// With the `u` flag a well-formed pair is one code point, so this matches only lone halves, which
// UTF-8 cannot encode: the stored key would silently differ from the one given.
const UNPAIRED_SURROGATE = /\p{Cs}/u;
// Visible ASCII and spaces: anything else is unsafe in an HTTP header or meaningless in a type.
const CONTENT_TYPE = /^[\x20-\x7e]+$/;

/**
 * Checks an artifact key and returns its segments. A key is a relative, `/`-separated path of
 * non-empty segments, none of them `.` or `..`, with no backslash, control character or unpaired
 * surrogate, at most 1024 UTF-8 bytes long and 200 per segment.
 *
 * `a/../b` is rejected although it stays inside: S3 would store it literally as a different
 * object from `b`, while a file system would resolve it to `b`, so backends would disagree.
 *
 * @throws AsmError `validation_error` with `details.key` and `details.reason`.
 */
export function parseArtifactKey(key: unknown): string[] {
  if (typeof key !== "string") throw keyError(key, "not_a_string", "artifact key must be a string");
  if (key === "") throw keyError(key, "empty", "artifact key must not be empty");
  if (Buffer.byteLength(key, "utf8") > MAX_ARTIFACT_KEY_BYTES) {
    throw keyError(key, "too_long", `artifact key is longer than ${MAX_ARTIFACT_KEY_BYTES} UTF-8 bytes`);
  }
  if (key.startsWith("/")) throw keyError(key, "absolute", "artifact key must be relative, not start with /");
  if (key.includes("\\")) {
    throw keyError(key, "backslash", "artifact key must use / as its only separator, not \\");
  }
  if (CONTROL_CHARACTER.test(key)) {
    throw keyError(key, "control_character", "artifact key must not contain control characters");
  }
  if (UNPAIRED_SURROGATE.test(key)) {
    throw keyError(key, "unpaired_surrogate", "artifact key must be valid Unicode");
  }
  const segments = key.split("/");
  for (const segment of segments) {
    if (segment === "") {
      throw keyError(
        key,
        "empty_segment",
        "artifact key must not contain empty segments (// or a trailing /)",
      );
    }
    if (segment === "." || segment === "..") {
      throw keyError(key, "dot_segment", "artifact key must not contain . or .. segments");
    }
    if (Buffer.byteLength(segment, "utf8") > MAX_ARTIFACT_KEY_SEGMENT_BYTES) {
      throw keyError(
        key,
        "segment_too_long",
        `artifact key segments must be at most ${MAX_ARTIFACT_KEY_SEGMENT_BYTES} UTF-8 bytes`,
      );
    }
  }
  return segments;
}

/** Like `parseArtifactKey`, for callers that only need the check. */
export function validateArtifactKey(key: unknown): string {
  parseArtifactKey(key);
  return key as string;
}

/** Checked options of a put, with the default content type filled in. */
export interface NormalizedPutOptions {
  contentType: string;
}

/** @throws AsmError `validation_error` for a content type that is empty, too long or not visible ASCII. */
export function normalizePutOptions(
  key: string,
  options: PutArtifactOptions | undefined,
): NormalizedPutOptions {
  if (options === undefined) return { contentType: DEFAULT_ARTIFACT_CONTENT_TYPE };
  if (typeof options !== "object" || options === null) {
    throw new AsmError("validation_error", "put options must be an object", { details: { key } });
  }
  const { contentType } = options;
  if (contentType === undefined) return { contentType: DEFAULT_ARTIFACT_CONTENT_TYPE };
  if (
    typeof contentType !== "string" ||
    contentType.trim() === "" ||
    contentType.length > MAX_CONTENT_TYPE_LENGTH ||
    !CONTENT_TYPE.test(contentType)
  ) {
    throw new AsmError(
      "validation_error",
      `contentType must be 1 to ${MAX_CONTENT_TYPE_LENGTH} visible ASCII characters`,
      { details: { key, field: "contentType", value: truncate(String(contentType)) } },
    );
  }
  return { contentType };
}

function keyError(key: unknown, reason: ArtifactKeyProblem, message: string): AsmError {
  return new AsmError("validation_error", message, {
    details: { key: typeof key === "string" ? truncate(key) : String(key), reason },
  });
}

/** Keeps error details small when a caller passes a huge key or value. */
function truncate(text: string): string {
  return text.length > 256 ? `${text.slice(0, 256)}…` : text;
}

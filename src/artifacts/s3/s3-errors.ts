import { AsmError, type ErrorCode } from "../../core/errors.js";

/** Which call failed, for messages and `details`. */
export interface S3ErrorContext {
  operation: string;
  bucket: string;
  key: string;
  objectKey: string;
}

// Errors thrown before any response: the endpoint is down, unreachable or cut the connection.
const NETWORK_CODES = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "ECONNABORTED",
  "ENOTFOUND",
  "EAI_AGAIN",
  "ETIMEDOUT",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "EPIPE",
  "EPROTO",
  "UND_ERR_SOCKET",
]);
const NETWORK_NAMES = new Set([
  "TimeoutError",
  "RequestTimeout",
  "RequestTimeoutException",
  "NetworkingError",
]);
const CREDENTIAL_NAMES = new Set([
  "CredentialsProviderError",
  "AccessDenied",
  "AllAccessDisabled",
  "InvalidAccessKeyId",
  "SignatureDoesNotMatch",
  "ExpiredToken",
  "InvalidToken",
  "TokenRefreshRequired",
  "AuthorizationHeaderMalformed",
]);
const THROTTLING_NAMES = new Set([
  "SlowDown",
  "ServiceUnavailable",
  "Throttling",
  "ThrottlingException",
  "TooManyRequests",
]);

/** Whether S3 said there is no such object (`NoSuchKey` from GET, a bare 404 from HEAD). */
export function isS3NotFound(error: unknown): boolean {
  const { name, status } = describe(error);
  return name === "NoSuchKey" || name === "NotFound" || (status === 404 && name !== "NoSuchBucket");
}

/**
 * An SDK or network failure as an AsmError:
 * - connection refused, reset, DNS, timeouts → `storage_connection_failed` (retryable);
 * - throttling (503 SlowDown) → `storage_busy` (retryable);
 * - bad or missing credentials, access denied, a missing bucket, anything else → `storage_error`,
 *   with a hint where there is one. `details` carry the S3 error name, HTTP status and request id.
 */
export function s3Error(error: unknown, context: S3ErrorContext): AsmError {
  if (AsmError.is(error)) return error;
  const { name, status, code, requestId, message } = describe(error);
  let errorCode: ErrorCode = "storage_error";
  let hint: string | undefined;
  if ((code !== undefined && NETWORK_CODES.has(code)) || NETWORK_NAMES.has(name)) {
    errorCode = "storage_connection_failed";
    hint = "Check that the S3 endpoint is reachable (endpoint, region, network, proxy).";
  } else if (THROTTLING_NAMES.has(name) || status === 503 || status === 429) {
    errorCode = "storage_busy";
    hint = "S3 is throttling requests; retry with backoff.";
  } else if (CREDENTIAL_NAMES.has(name) || status === 401 || status === 403) {
    hint =
      name === "CredentialsProviderError"
        ? "No AWS credentials were found: pass clientConfig.credentials or set AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY (or a profile)."
        : `Check the credentials and that they may ${context.operation} objects in bucket ${context.bucket}.`;
  } else if (name === "NoSuchBucket") {
    hint = `Bucket ${context.bucket} does not exist; create it or fix the bucket option.`;
  }
  return new AsmError(errorCode, `S3 ${context.operation} of ${context.key} failed: ${name}: ${message}`, {
    details: {
      key: context.key,
      bucket: context.bucket,
      objectKey: context.objectKey,
      operation: context.operation,
      s3Error: name,
      ...(status === undefined ? {} : { httpStatus: status }),
      ...(code === undefined ? {} : { errno: code }),
      ...(requestId === undefined ? {} : { requestId }),
    },
    ...(hint === undefined ? {} : { hint }),
    cause: error,
  });
}

interface ErrorFacts {
  name: string;
  message: string;
  status?: number;
  /** A Node system error code, from the error or its cause. */
  code?: string;
  requestId?: string;
}

/** Reads the fields SDK and Node errors carry, without trusting their types. */
function describe(error: unknown): ErrorFacts {
  const facts: ErrorFacts = {
    name: error instanceof Error ? error.name : "Error",
    message: error instanceof Error ? error.message : String(error),
  };
  const metadata = field(error, "$metadata");
  const status = field(metadata, "httpStatusCode");
  if (typeof status === "number") facts.status = status;
  const requestId = field(metadata, "requestId");
  if (typeof requestId === "string") facts.requestId = requestId;
  for (const candidate of [error, field(error, "cause")]) {
    const code = field(candidate, "code");
    if (typeof code === "string") {
      facts.code = code;
      break;
    }
  }
  return facts;
}

function field(value: unknown, name: string): unknown {
  return typeof value === "object" && value !== null ? Reflect.get(value, name) : undefined;
}

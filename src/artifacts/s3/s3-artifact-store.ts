import { createHash } from "node:crypto";
import { Readable } from "node:stream";
import type { S3Client, S3ClientConfig } from "@aws-sdk/client-s3";
import { AsmError } from "../../core/errors.js";
import type { ArtifactInfo, ArtifactStore, PutArtifactOptions } from "../../ports/artifact-store.js";
import { ARTIFACT_STORE_SPECIFICATION } from "../../ports/artifact-store.js";
import { bodyBytes, sha256Hex, withAsmErrors } from "../shared/artifact-body.js";
import {
  DEFAULT_ARTIFACT_CONTENT_TYPE,
  MAX_ARTIFACT_KEY_BYTES,
  normalizePutOptions,
  parseArtifactKey,
} from "../shared/artifact-key.js";
import { isS3NotFound, type S3ErrorContext, s3Error } from "./s3-errors.js";
import { loadS3Sdk, type S3Sdk } from "./s3-sdk.js";

const MiB = 1024 * 1024;
/** S3's smallest part (every part but the last) and largest part. */
const MIN_PART_BYTES = 5 * MiB;
const MAX_PART_BYTES = 5 * 1024 * MiB;
/** The object metadata entry (`x-amz-meta-sha256`) that carries the body's hex SHA-256. */
const SHA256_METADATA = "sha256";
const SHA256_HEX = /^[0-9a-f]{64}$/;

export interface S3ArtifactStoreOptions {
  /** The bucket the artifacts go in. It must exist; the store never creates buckets. */
  bucket: string;
  /**
   * Prepended to every key with a `/`: with prefix `team-a/artifacts`, key `k` is the object
   * `team-a/artifacts/k`. It follows the key rules itself (a trailing `/` is dropped), and stores
   * with different prefixes never see each other's artifacts. Default `""`: keys as given.
   */
  prefix?: string;
  /**
   * The client to use, owned by the caller: `close()` leaves it alone. Give this or
   * `clientConfig`, not both.
   */
  client?: S3Client;
  /**
   * Configuration of a client the store creates on first use and destroys on `close()`:
   * `region`, `endpoint`, `credentials`, `forcePathStyle`, `maxAttempts`, … Default `{}`: region
   * and credentials from the environment, as the SDK finds them. For S3-compatible servers without
   * flexible checksums (s3rver, older MinIO) also set `requestChecksumCalculation` and
   * `responseChecksumValidation` to `"WHEN_REQUIRED"`.
   */
  clientConfig?: S3ClientConfig;
  /**
   * Bodies larger than this many bytes are uploaded in parts (multipart upload, `Upload` of
   * `@aws-sdk/lib-storage`); smaller ones with one `PutObject`. Default 8 MiB.
   */
  multipartThresholdBytes?: number;
  /** Size of each part of a multipart upload, 5 MiB to 5 GiB. Default 8 MiB. */
  partSizeBytes?: number;
  /** Parts of one multipart upload in flight at once, 1 to 64. Default 4. */
  uploadConcurrency?: number;
}

interface Connection {
  sdk: S3Sdk;
  client: S3Client;
}

/**
 * An `ArtifactStore` on Amazon S3 or an S3-compatible server.
 *
 * Each artifact is one object, `<prefix>/<key>`. Its hex SHA-256 travels as object metadata
 * (`x-amz-meta-sha256`), so `head` answers from a HEAD request; an object written by other tools
 * without it is hashed by streaming it once. Large bodies go up as multipart uploads, whose parts
 * S3 assembles into the object only when the upload completes, so readers never see part of a
 * put; a failed upload is aborted and leaves no parts behind.
 *
 * The AWS SDK (`@aws-sdk/client-s3`, `@aws-sdk/lib-storage`) is an optional peer dependency,
 * imported on first use: without it, calls reject with `dependency_not_available`.
 *
 * Errors: a missing object is `not_found` (`get`) or `null` (`head`); unreachable endpoints and
 * timeouts are `storage_connection_failed`; throttling is `storage_busy`; bad credentials, denied
 * access, a missing bucket and other S3 errors are `storage_error` with a hint.
 */
export class S3ArtifactStore implements ArtifactStore {
  readonly specificationVersion = ARTIFACT_STORE_SPECIFICATION;
  readonly bucket: string;
  /** The normalized prefix, without a trailing `/`; `""` for none. */
  readonly prefix: string;
  readonly #client: S3Client | undefined;
  readonly #clientConfig: S3ClientConfig;
  readonly #multipartThreshold: number;
  readonly #partSize: number;
  readonly #uploadConcurrency: number;
  #connection: Promise<Connection> | undefined;
  #closed = false;

  constructor(options: S3ArtifactStoreOptions) {
    if (typeof options?.bucket !== "string" || options.bucket === "") {
      throw optionError("bucket", "S3ArtifactStore needs a bucket name");
    }
    if (options.client !== undefined && options.clientConfig !== undefined) {
      throw optionError("client", "give S3ArtifactStore either client or clientConfig, not both");
    }
    this.bucket = options.bucket;
    this.prefix = normalizePrefix(options.prefix);
    this.#client = options.client;
    this.#clientConfig = options.clientConfig ?? {};
    this.#multipartThreshold = sizeOption(
      options,
      "multipartThresholdBytes",
      8 * MiB,
      0,
      Number.MAX_SAFE_INTEGER,
    );
    this.#partSize = sizeOption(options, "partSizeBytes", 8 * MiB, MIN_PART_BYTES, MAX_PART_BYTES);
    this.#uploadConcurrency = sizeOption(options, "uploadConcurrency", 4, 1, 64);
  }

  async put(key: string, body: Uint8Array | string, options?: PutArtifactOptions): Promise<ArtifactInfo> {
    const context = this.#context("put", key);
    const { contentType } = normalizePutOptions(key, options);
    const bytes = bodyBytes(key, body);
    this.#assertOpen();
    // The body is in memory already, so its hash is known before the first byte goes out: it has
    // to be, since metadata is fixed when a multipart upload is created, not when it completes.
    const sha256 = sha256Hex(bytes);
    try {
      const { sdk, client } = await this.#connect();
      const params = {
        Bucket: this.bucket,
        Key: context.objectKey,
        Body: bytes,
        ContentType: contentType,
        Metadata: { [SHA256_METADATA]: sha256 },
      };
      if (bytes.byteLength > this.#multipartThreshold) {
        const upload = new sdk.storage.Upload({
          client,
          params,
          partSize: this.#partSize,
          queueSize: this.#uploadConcurrency,
          // Abort the upload on failure, so no orphaned parts keep costing storage.
          leavePartsOnError: false,
        });
        await upload.done();
      } else {
        await client.send(new sdk.s3.PutObjectCommand({ ...params, ContentLength: bytes.byteLength }));
      }
    } catch (error) {
      throw s3Error(error, context);
    }
    return { key, size: bytes.byteLength, sha256, contentType };
  }

  async get(key: string): Promise<Uint8Array> {
    const context = this.#context("get", key);
    const { body, length } = await this.#getObject(context);
    try {
      return await collect(body, length);
    } catch (error) {
      throw s3Error(error, context);
    }
  }

  /**
   * The body as a stream, for artifacts too large to hold in memory; rejects with `not_found`
   * like `get`. Failures while reading surface as AsmErrors on the stream. Read it to the end or
   * destroy it: until then it holds an HTTP connection of the client's pool.
   */
  async getStream(key: string): Promise<Readable> {
    const context = this.#context("getStream", key);
    const { body } = await this.#getObject(context);
    return withAsmErrors(body, (error) => s3Error(error, context));
  }

  async head(key: string): Promise<ArtifactInfo | null> {
    const context = this.#context("head", key);
    this.#assertOpen();
    let output: { ContentLength?: number; ContentType?: string; Metadata?: Record<string, string> };
    try {
      const { sdk, client } = await this.#connect();
      output = await client.send(
        new sdk.s3.HeadObjectCommand({ Bucket: this.bucket, Key: context.objectKey }),
      );
    } catch (error) {
      if (isS3NotFound(error)) return null;
      throw s3Error(error, context);
    }
    const contentType = output.ContentType || DEFAULT_ARTIFACT_CONTENT_TYPE;
    const recorded = output.Metadata?.[SHA256_METADATA];
    if (recorded !== undefined && SHA256_HEX.test(recorded) && output.ContentLength !== undefined) {
      return { key, size: output.ContentLength, sha256: recorded, contentType };
    }
    return this.#hashObject(context, contentType);
  }

  async delete(key: string): Promise<void> {
    const context = this.#context("delete", key);
    this.#assertOpen();
    try {
      const { sdk, client } = await this.#connect();
      await client.send(new sdk.s3.DeleteObjectCommand({ Bucket: this.bucket, Key: context.objectKey }));
    } catch (error) {
      // S3 answers 204 for a missing key; some compatible servers say 404. Both mean done.
      if (isS3NotFound(error)) return;
      throw s3Error(error, context);
    }
  }

  /**
   * Destroys the client the store created (a client passed in stays open); later calls reject
   * with `storage_connection_failed`. Idempotent.
   */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    const connection = this.#connection;
    this.#connection = undefined;
    if (connection === undefined || this.#client !== undefined) return;
    const opened = await connection.catch(() => undefined);
    opened?.client.destroy();
  }

  /** The object key of an artifact key: `<prefix>/<key>`, or the key itself without a prefix. */
  objectKey(key: string): string {
    parseArtifactKey(key);
    const objectKey = this.prefix === "" ? key : `${this.prefix}/${key}`;
    if (Buffer.byteLength(objectKey, "utf8") > MAX_ARTIFACT_KEY_BYTES) {
      throw new AsmError(
        "validation_error",
        `artifact key with prefix ${this.prefix} is longer than S3's ${MAX_ARTIFACT_KEY_BYTES} bytes`,
        { details: { key, prefix: this.prefix, reason: "too_long" } },
      );
    }
    return objectKey;
  }

  #context(operation: string, key: string): S3ErrorContext {
    return { operation, bucket: this.bucket, key, objectKey: this.objectKey(key) };
  }

  #assertOpen(): void {
    if (this.#closed) {
      throw new AsmError("storage_connection_failed", "S3 artifact store is closed", {
        details: { bucket: this.bucket },
        hint: "Open a new store; a closed one cannot be reused.",
      });
    }
  }

  /** Loads the SDK and makes the client once; a failure (SDK missing) is retried by the next call. */
  #connect(): Promise<Connection> {
    if (this.#connection === undefined) {
      const connection = loadS3Sdk().then((sdk) => ({
        sdk,
        client: this.#client ?? new sdk.s3.S3Client(this.#clientConfig),
      }));
      this.#connection = connection;
      connection.catch(() => {
        if (this.#connection === connection) this.#connection = undefined;
      });
    }
    return this.#connection;
  }

  async #getObject(context: S3ErrorContext): Promise<{ body: Readable; length: number | undefined }> {
    this.#assertOpen();
    let output: { Body?: unknown; ContentLength?: number };
    try {
      const { sdk, client } = await this.#connect();
      output = await client.send(
        new sdk.s3.GetObjectCommand({ Bucket: this.bucket, Key: context.objectKey }),
      );
    } catch (error) {
      if (isS3NotFound(error)) {
        throw new AsmError("not_found", `artifact ${context.key} not found`, {
          details: { key: context.key },
        });
      }
      throw s3Error(error, context);
    }
    // In Node the SDK's body is an http.IncomingMessage; anything else means a browser build.
    if (!(output.Body instanceof Readable)) {
      throw new AsmError("storage_error", `S3 returned no readable body for ${context.key}`, {
        details: { key: context.key, bucket: this.bucket, objectKey: context.objectKey },
      });
    }
    return { body: output.Body, length: output.ContentLength };
  }

  /** Size and SHA-256 of an object that carries no recorded hash, by streaming it. */
  async #hashObject(context: S3ErrorContext, contentType: string): Promise<ArtifactInfo | null> {
    let object: { body: Readable };
    try {
      object = await this.#getObject(context);
    } catch (error) {
      // Deleted between the HEAD and the GET.
      if (AsmError.is(error, "not_found")) return null;
      throw error;
    }
    const hash = createHash("sha256");
    let size = 0;
    try {
      for await (const chunk of object.body) {
        const bytes = chunk as Uint8Array;
        hash.update(bytes);
        size += bytes.byteLength;
      }
    } catch (error) {
      throw s3Error(error, context);
    }
    return { key: context.key, size, sha256: hash.digest("hex"), contentType };
  }
}

/**
 * Reads a body into one exactly sized `Uint8Array`, copying each chunk once. A body that ends
 * short of its `Content-Length` is an error, not a truncated artifact.
 */
async function collect(body: Readable, length: number | undefined): Promise<Uint8Array> {
  if (length === undefined) {
    const chunks: Uint8Array[] = [];
    for await (const chunk of body) chunks.push(chunk as Uint8Array);
    const joined = Buffer.concat(chunks);
    return new Uint8Array(joined.buffer, joined.byteOffset, joined.byteLength);
  }
  const bytes = new Uint8Array(length);
  let offset = 0;
  for await (const chunk of body) {
    const part = chunk as Uint8Array;
    if (offset + part.byteLength > length) throw lengthMismatch(length, offset + part.byteLength);
    bytes.set(part, offset);
    offset += part.byteLength;
  }
  if (offset !== length) throw lengthMismatch(length, offset);
  return bytes;
}

function lengthMismatch(expected: number, actual: number): Error {
  return new Error(`S3 sent ${actual} bytes where Content-Length promised ${expected}`);
}

function normalizePrefix(prefix: unknown): string {
  if (prefix === undefined || prefix === "") return "";
  if (typeof prefix !== "string") throw optionError("prefix", "prefix must be a string");
  const trimmed = prefix.endsWith("/") ? prefix.slice(0, -1) : prefix;
  try {
    parseArtifactKey(trimmed);
  } catch (error) {
    throw optionError("prefix", `prefix ${JSON.stringify(prefix)} must follow the artifact key rules`, error);
  }
  return trimmed;
}

function sizeOption(
  options: S3ArtifactStoreOptions,
  field: "multipartThresholdBytes" | "partSizeBytes" | "uploadConcurrency",
  fallback: number,
  min: number,
  max: number,
): number {
  const value = options[field];
  if (value === undefined) return fallback;
  if (!Number.isInteger(value) || value < min || value > max) {
    throw optionError(field, `${field} must be an integer from ${min} to ${max}`, undefined, value);
  }
  return value;
}

function optionError(field: string, message: string, cause?: unknown, value?: unknown): AsmError {
  return new AsmError("validation_error", message, {
    details: { field, ...(value === undefined ? {} : { value }) },
    ...(cause === undefined ? {} : { cause }),
  });
}

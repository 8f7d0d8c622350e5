/** What a store knows about an artifact without reading its body. */
export interface ArtifactInfo {
  key: string;
  /** Size of the body in bytes. */
  size: number;
  /** Hex SHA-256 of the body. */
  sha256: string;
  /** As given to `put`; `application/octet-stream` when none was. */
  contentType: string;
}

export interface PutArtifactOptions {
  contentType?: string;
}

/** The `ArtifactStore` contract this package drives; a store declares the one it implements. */
export const ARTIFACT_STORE_SPECIFICATION = "v1";

/**
 * Blob storage by key (patches, files, exports).
 *
 * Keys are relative, slash-separated paths; a key that is empty, absolute or climbs out with
 * `..` is rejected with `validation_error`. Every method rejects with an `AsmError`.
 */
export interface ArtifactStore {
  /** `ARTIFACT_STORE_SPECIFICATION`. */
  readonly specificationVersion: typeof ARTIFACT_STORE_SPECIFICATION;
  /** Stores the body under `key`, replacing any previous body atomically. */
  put(key: string, body: Uint8Array | string, options?: PutArtifactOptions): Promise<ArtifactInfo>;
  /** The body; rejects with `not_found` when there is none. */
  get(key: string): Promise<Uint8Array>;
  /** The artifact's info, or `null` when there is none. */
  head(key: string): Promise<ArtifactInfo | null>;
  /** Removes the artifact; deleting a missing key is a no-op. */
  delete(key: string): Promise<void>;
  /** Releases clients and handles; later calls fail with `storage_connection_failed`. */
  close?(): Promise<void>;
}

import type { FileHandle } from "node:fs/promises";
import { join, resolve } from "node:path";
import type { Readable } from "node:stream";
import { AsmError } from "../../core/errors.js";
import type { ArtifactInfo, ArtifactStore, PutArtifactOptions } from "../../ports/artifact-store.js";
import { ARTIFACT_STORE_SPECIFICATION } from "../../ports/artifact-store.js";
import { bodyBytes, plainBytes, sha256Hex, withAsmErrors } from "../shared/artifact-body.js";
import {
  DEFAULT_ARTIFACT_CONTENT_TYPE,
  normalizePutOptions,
  parseArtifactKey,
} from "../shared/artifact-key.js";
import { ArtifactTree } from "./artifact-tree.js";
import { hashBody } from "./body-hash.js";
import { type Confinement, TamperedEntry } from "./directory-handle.js";
import { DATA_DIR, type KeyLocation, locate } from "./layout.js";
import { migrateLegacyLayout } from "./legacy-layout.js";
import { encodeSidecar, readSidecar, type Sidecar, sameStamp, stampOf } from "./sidecar.js";

export interface FileArtifactStoreOptions {
  /**
   * The directory that holds the artifacts, created owner-only (0700), with any missing parents,
   * on first use; an existing one keeps its mode. A relative path is resolved against the working
   * directory when the store is constructed.
   */
  root: string;
  /**
   * Whether a put is on disk when it resolves: the body and its sidecar are fsynced before their
   * renames, and their directories after. Default `true`. Without it a crash can lose a put that
   * resolved, but a body is still never torn: the rename still makes it appear whole or not at all.
   */
  durable?: boolean;
  /**
   * How the store keeps every file operation inside the root. Default: `"descriptor"` where
   * Linux's /proc/self/fd is available, which no concurrent rename or symlink can defeat;
   * `"path"` elsewhere, which refuses links present before a call but not one swapped in during
   * it (see `Confinement`). Asking for `"descriptor"` where it is not available makes every call
   * fail with `capability_not_supported`.
   */
  confinement?: Confinement;
}

/**
 * An `ArtifactStore` on a local directory.
 *
 * Layout (see `layout.ts`): the body of a key is `data/ab/cd/<sha256 of the key>` and its sidecar
 * (the key, size, sha256, content type and a stamp of the body file, see `Sidecar`) sits next to
 * it as `<hash>.json`. No name in the tree comes from a key, so keys need no escaping, `a` and
 * `a/b` are independent artifacts, and no key can name a path outside the store. The body is the
 * truth; `head` re-hashes it when the sidecar is missing or describes another version of the file.
 * A root in the first layout (`objects/<key>`, `meta/<key>`) is migrated on the store's first
 * call (see `legacy-layout.ts`). Several processes may share a root.
 *
 * Atomicity: a put writes a temporary file in `tmp/`, fsyncs it, and renames it over the body,
 * so readers see the old body or the new one, never a mix, even if the process dies mid-write
 * (a leftover temporary file is invisible to every method). The sidecar is replaced the same way
 * after the body.
 *
 * Confinement: the store holds its root, `data/` and `tmp/` open, opens every folder below them
 * by one name relative to its open parent, and opens files with `O_NOFOLLOW`, so it never
 * follows a symlink inside its tree. With `"descriptor"` confinement (the default on Linux) no
 * process swapping folders for links while a call runs can redirect it either: nothing outside
 * the root is read, written or deleted. Something the store did not put there (a symlink, a file
 * where a folder belongs, a folder or FIFO where a body belongs, a folder of another user) makes
 * the call fail with `storage_corrupt`, `details.path` and `details.reason`. The store holds its
 * directories open: if they are removed while it runs, calls fail with `storage_error` until a
 * new store is opened.
 *
 * Permissions: everything it creates is owner-only, whatever the umask: files 0600, folders 0700
 * (folders of its own tree found with other modes are set back to 0700).
 *
 * Other failures are `storage_error` with `details.path`.
 */
export class FileArtifactStore implements ArtifactStore {
  readonly specificationVersion = ARTIFACT_STORE_SPECIFICATION;
  /** Absolute path of the root directory. */
  readonly root: string;
  readonly #durable: boolean;
  readonly #confinement: Confinement | undefined;
  #tree: Promise<ArtifactTree> | undefined;
  #closed = false;
  /** Calls under way, which `close` waits for before it closes the directories they name. */
  readonly #running = new Set<Promise<unknown>>();

  constructor(options: FileArtifactStoreOptions) {
    if (typeof options?.root !== "string" || options.root === "") {
      throw new AsmError("validation_error", "FileArtifactStore needs a root directory", {
        details: { field: "root" },
      });
    }
    if (options.confinement !== undefined && !["descriptor", "path"].includes(options.confinement)) {
      throw new AsmError("validation_error", 'confinement must be "descriptor" or "path"', {
        details: { field: "confinement", value: String(options.confinement) },
      });
    }
    this.root = resolve(options.root);
    this.#durable = options.durable ?? true;
    this.#confinement = options.confinement;
  }

  async put(key: string, body: Uint8Array | string, options?: PutArtifactOptions): Promise<ArtifactInfo> {
    parseArtifactKey(key);
    const { contentType } = normalizePutOptions(key, options);
    const bytes = bodyBytes(key, body);
    const info = { key, size: bytes.byteLength, sha256: sha256Hex(bytes), contentType };
    return this.#call(key, "put", async (tree, location) => {
      const folder = await tree.folder(location, true);
      try {
        const stamp = await tree.write(folder, location.body, bytes);
        await tree.write(folder, location.sidecar, encodeSidecar(info, stamp));
        return info;
      } finally {
        await folder.close();
      }
    });
  }

  async get(key: string): Promise<Uint8Array> {
    parseArtifactKey(key);
    return this.#call(key, "get", async (tree, location) => {
      const handle = await this.#openBody(key, tree, location);
      try {
        return plainBytes(await handle.readFile());
      } finally {
        await handle.close();
      }
    });
  }

  /**
   * The body as a stream, for artifacts too large to hold in memory; rejects with `not_found`
   * like `get`. Read errors surface as `storage_error` on the stream. Read it to the end or
   * destroy it: until then it holds a file descriptor.
   */
  async getStream(key: string): Promise<Readable> {
    parseArtifactKey(key);
    const handle = await this.#call(key, "getStream", (tree, location) =>
      this.#openBody(key, tree, location),
    );
    return withAsmErrors(handle.createReadStream({ autoClose: true }), (error) =>
      this.#asmError(error, key, "getStream", locate(key)),
    );
  }

  async head(key: string): Promise<ArtifactInfo | null> {
    parseArtifactKey(key);
    return this.#call(key, "head", async (tree, location) => {
      const folder = await tree.folder(location, false);
      if (folder === undefined) return null;
      try {
        const body = await folder.openFile(location.body);
        if (body === undefined) return null;
        try {
          const sidecar = await readSidecar(folder, location.sidecar);
          const ours = sidecar?.key === key ? sidecar : undefined;
          if (ours !== undefined && sameStamp(ours, stampOf(await body.stat({ bigint: true })))) {
            return infoOf(ours);
          }
          const read = await hashBody(body);
          // The last recorded type is the best guess left: a key usually keeps its type across puts.
          const contentType = ours?.contentType ?? DEFAULT_ARTIFACT_CONTENT_TYPE;
          const info = { key, size: read.size, sha256: read.sha256, contentType };
          if (read.stable) {
            // Only a cache: if it cannot be written the body is still right, and the next head retries.
            await tree
              .write(folder, location.sidecar, encodeSidecar(info, read.stamp))
              .catch(() => undefined);
          }
          return info;
        } finally {
          await body.close();
        }
      } finally {
        await folder.close();
      }
    });
  }

  async delete(key: string): Promise<void> {
    parseArtifactKey(key);
    return this.#call(key, "delete", async (tree, location) => {
      const folder = await tree.folder(location, false);
      if (folder === undefined) return;
      try {
        // Sidecar first: a crash in between leaves a body without a sidecar, which `head` repairs,
        // rather than a sidecar that outlives its body.
        await tree.remove(folder, location.sidecar);
        await tree.remove(folder, location.body);
      } finally {
        await folder.close();
      }
    });
  }

  /**
   * Marks the store closed, waits for the calls under way, and closes its directories: later
   * calls reject with `storage_connection_failed`. Idempotent.
   */
  async close(): Promise<void> {
    this.#closed = true;
    while (this.#running.size > 0) await Promise.allSettled([...this.#running]);
    const tree = this.#tree;
    this.#tree = undefined;
    await tree?.then((opened) => opened.close()).catch(() => undefined);
  }

  /** Runs one call on the open tree, turning every failure into an AsmError. */
  async #call<T>(
    key: string,
    operation: string,
    body: (tree: ArtifactTree, location: KeyLocation) => Promise<T>,
  ): Promise<T> {
    if (this.#closed) {
      throw new AsmError("storage_connection_failed", "file artifact store is closed", {
        details: { root: this.root },
        hint: "Open a new store; a closed one cannot be reused.",
      });
    }
    const location = locate(key);
    const call = (async () => {
      try {
        return await body(await this.#ready(), location);
      } catch (error) {
        throw this.#asmError(error, key, operation, location);
      }
    })();
    this.#running.add(call);
    try {
      return await call;
    } finally {
      this.#running.delete(call);
    }
  }

  /** Opens the tree (migrating a first-layout root) once; a failure is retried by the next call. */
  #ready(): Promise<ArtifactTree> {
    if (this.#tree === undefined) {
      const tree = this.#openTree();
      this.#tree = tree;
      tree.catch(() => {
        if (this.#tree === tree) this.#tree = undefined;
      });
    }
    return this.#tree;
  }

  async #openTree(): Promise<ArtifactTree> {
    const tree = await ArtifactTree.open(this.root, this.#confinement, this.#durable);
    try {
      await migrateLegacyLayout(tree);
      return tree;
    } catch (error) {
      await tree.close();
      throw error;
    }
  }

  /** The body of `key` open for reading: `not_found` when there is none. */
  async #openBody(key: string, tree: ArtifactTree, location: KeyLocation): Promise<FileHandle> {
    const folder = await tree.folder(location, false);
    let handle: FileHandle | undefined;
    if (folder !== undefined) {
      try {
        handle = await folder.openFile(location.body);
      } finally {
        await folder.close();
      }
    }
    if (handle === undefined) {
      throw new AsmError("not_found", `artifact ${key} not found`, { details: { key } });
    }
    return handle;
  }

  /** Any failure as an AsmError: ours pass through, a tampered tree is `storage_corrupt`, the rest `storage_error`. */
  #asmError(error: unknown, key: string, operation: string, location: KeyLocation): AsmError {
    if (AsmError.is(error)) return error;
    if (error instanceof TamperedEntry) {
      return new AsmError(
        "storage_corrupt",
        `artifact ${operation} of ${key} refused: ${error.path} is not what the store put there (${error.reason.replaceAll("_", " ")})`,
        {
          details: { key, operation, path: error.path, reason: error.reason },
          hint: "Something other than this store changed its directory tree; remove that entry. The store never follows links in its tree.",
        },
      );
    }
    const fields = typeof error === "object" && error !== null ? (error as Record<string, unknown>) : {};
    const message = error instanceof Error ? error.message : String(error);
    const path = join(this.root, DATA_DIR, ...location.folders, location.body);
    return new AsmError("storage_error", `artifact ${operation} of ${key} failed: ${message}`, {
      details: {
        key,
        operation,
        path: typeof fields.path === "string" ? fields.path : path,
        ...(typeof fields.code === "string" ? { errno: fields.code } : {}),
      },
      cause: error,
    });
  }
}

function infoOf(sidecar: Sidecar): ArtifactInfo {
  return { key: sidecar.key, size: sidecar.size, sha256: sidecar.sha256, contentType: sidecar.contentType };
}

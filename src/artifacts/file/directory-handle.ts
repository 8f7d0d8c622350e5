import { type BigIntStats, constants } from "node:fs";
import {
  type FileHandle,
  link,
  lstat,
  mkdir,
  open,
  readdir,
  realpath,
  rename,
  rmdir,
  stat,
  unlink,
} from "node:fs/promises";
import { join } from "node:path";
import { AsmError } from "../../core/errors.js";

/**
 * How a `DirectoryHandle` names the entries of its directory.
 *
 * - `"descriptor"`: through `/proc/self/fd/<fd>/<name>`, which the kernel resolves inside the very
 *   directory the descriptor holds, wherever that directory is now: an `openat(2)` for Node, which
 *   has none. No rename or symlink made by another process can send such a name anywhere else.
 *   Needs Linux's /proc.
 * - `"path"`: through the directory's path from the root, for systems without /proc. Before each
 *   use the directory's real path must be where it should be, so links present before a call are
 *   refused, but a process that swaps a directory for a link between that check and the use can
 *   still redirect the call.
 */
export type Confinement = "descriptor" | "path";

/** Owner-only modes for everything the store creates, whatever the umask. */
const DIRECTORY_MODE = 0o700;
export const FILE_MODE = 0o600;

const OPEN_DIRECTORY = constants.O_RDONLY | constants.O_DIRECTORY | constants.O_NOFOLLOW;
// A FIFO or device planted where a file should be must not block the open: O_NONBLOCK.
const OPEN_FILE = constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK;
const CREATE_FILE = constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW;
/** Rounds of mkdir and open of one directory that another process keeps removing. */
const CREATE_ATTEMPTS = 5;

/** Why an entry of the store's tree is not what the store put there. */
export type TamperReason = "symlink" | "not_a_directory" | "not_a_regular_file" | "foreign_owner";

/** An entry of the store's tree that something else replaced; the store turns it into `storage_corrupt`. */
export class TamperedEntry extends Error {
  constructor(
    readonly path: string,
    readonly reason: TamperReason,
  ) {
    super(`${path}: ${reason.replaceAll("_", " ")}`);
  }
}

/**
 * An open directory of the store's tree. Every operation names an entry of this directory by a
 * single name (never a path with slashes), and never follows a symlink at that name.
 * Close it when done: in `"descriptor"` mode the names are only valid while the descriptor is open.
 */
export class DirectoryHandle {
  private constructor(
    private readonly handle: FileHandle,
    /** Where the directory is meant to be, for messages (and for the names in `"path"` mode). */
    readonly path: string,
    readonly confinement: Confinement,
  ) {}

  /**
   * Opens the root, following links in `path` (the root is the caller's choice), creating it
   * owner-only when missing. `confinement` is chosen when not given: `"descriptor"` where
   * /proc/self/fd resolves names relative to a descriptor, `"path"` elsewhere.
   * @throws AsmError `capability_not_supported` when `"descriptor"` is asked for where it is not
   *   available.
   */
  static async openRoot(path: string, confinement: Confinement | undefined): Promise<DirectoryHandle> {
    const created = await mkdir(path, { recursive: true, mode: DIRECTORY_MODE });
    const real = await realpath(path);
    const handle = await open(real, OPEN_DIRECTORY);
    try {
      if (created !== undefined) await handle.chmod(DIRECTORY_MODE);
      const available = await descriptorNamesWork(handle);
      if (confinement === "descriptor" && !available) {
        throw new AsmError("capability_not_supported", "descriptor confinement needs Linux's /proc/self/fd", {
          details: { root: real, confinement, platform: process.platform },
          hint: 'Leave `confinement` unset (or "path") on this system.',
        });
      }
      return new DirectoryHandle(handle, real, confinement ?? (available ? "descriptor" : "path"));
    } catch (error) {
      await handle.close();
      throw error;
    }
  }

  /** The name the kernel resolves to entry `name` of this directory. */
  #entry(name: string): string {
    return this.confinement === "descriptor"
      ? `/proc/self/fd/${this.handle.fd}/${name}`
      : join(this.path, name);
  }

  /** Where entry `name` is meant to be, for messages. */
  pathOf(name: string): string {
    return join(this.path, name);
  }

  /**
   * Opens the subdirectory `name`: `undefined` when it does not exist and `create` is false.
   * A created one is made owner-only; an existing one must be a real directory owned by this
   * process's user, and is made owner-only if it is not.
   * @throws TamperedEntry for a symlink, a non-directory or a directory of another user.
   */
  async openDirectory(name: string, create: true): Promise<DirectoryHandle>;
  async openDirectory(name: string, create: boolean): Promise<DirectoryHandle | undefined>;
  async openDirectory(name: string, create: boolean): Promise<DirectoryHandle | undefined> {
    await this.#checkPath();
    let created = false;
    let handle: FileHandle;
    for (let attempt = 1; ; attempt++) {
      try {
        handle = await this.#at(name, (entry) => open(entry, OPEN_DIRECTORY));
        break;
      } catch (error) {
        if (hasCode(error, "ELOOP", "ENOTDIR")) throw await this.#tampered(name, "directory");
        if (!hasCode(error, "ENOENT")) throw error;
        if (!create) return undefined;
        // Made and removed again between our mkdir and open, more than once: give up.
        if (attempt > CREATE_ATTEMPTS) throw error;
      }
      try {
        await this.#at(name, (entry) => mkdir(entry, DIRECTORY_MODE));
        created = true;
      } catch (error) {
        // Another call made it first (or planted something there: the next open tells).
        if (!hasCode(error, "EEXIST")) throw error;
      }
    }
    const directory = new DirectoryHandle(handle, this.pathOf(name), this.confinement);
    try {
      const stats = await handle.stat();
      if (!ownedByUs(stats)) throw new TamperedEntry(directory.path, "foreign_owner");
      if ((stats.mode & 0o7777) !== DIRECTORY_MODE) await handle.chmod(DIRECTORY_MODE);
      if (created) await this.sync();
      return directory;
    } catch (error) {
      await handle.close();
      throw error;
    }
  }

  /**
   * Opens file `name` for reading: `undefined` when it does not exist.
   * @throws TamperedEntry for a symlink or anything but a regular file.
   */
  async openFile(name: string): Promise<FileHandle | undefined> {
    await this.#checkPath();
    let handle: FileHandle;
    try {
      handle = await this.#at(name, (entry) => open(entry, OPEN_FILE));
    } catch (error) {
      if (hasCode(error, "ENOENT")) return undefined;
      if (hasCode(error, "ELOOP", "EISDIR", "ENXIO")) throw await this.#tampered(name, "file");
      throw error;
    }
    try {
      if (!(await handle.stat()).isFile()) throw new TamperedEntry(this.pathOf(name), "not_a_regular_file");
      return handle;
    } catch (error) {
      await handle.close();
      throw error;
    }
  }

  /** Creates file `name`, which must not exist, owner-only. */
  async createFile(name: string): Promise<FileHandle> {
    await this.#checkPath();
    const handle = await this.#at(name, (entry) => open(entry, CREATE_FILE, FILE_MODE));
    try {
      // The umask can only clear bits of FILE_MODE; this sets exactly the ones wanted.
      await handle.chmod(FILE_MODE);
      return handle;
    } catch (error) {
      await handle.close();
      throw error;
    }
  }

  /**
   * Moves entry `name` to entry `target` of `directory` (same file system), replacing a file or
   * link there (a link itself, never what it points to).
   * @throws TamperedEntry when a directory stands at `target`.
   */
  async moveTo(name: string, directory: DirectoryHandle, target: string): Promise<void> {
    await this.#checkPath();
    await directory.#checkPath();
    try {
      await this.#at(name, (from) => directory.#at(target, (to) => rename(from, to)));
    } catch (error) {
      if (hasCode(error, "EISDIR", "ENOTEMPTY", "EEXIST")) {
        throw new TamperedEntry(directory.pathOf(target), "not_a_regular_file");
      }
      throw error;
    }
  }

  /**
   * Makes file `name` also entry `target` of `directory` (a hard link, same file system), unless
   * something is already there: false then, and nothing changes. A rename that never replaces.
   */
  async linkTo(name: string, directory: DirectoryHandle, target: string): Promise<boolean> {
    await this.#checkPath();
    await directory.#checkPath();
    try {
      await this.#at(name, (from) => directory.#at(target, (to) => link(from, to)));
      return true;
    } catch (error) {
      if (hasCode(error, "EEXIST")) return false;
      throw error;
    }
  }

  /** Removes file `name`; false when there was none. @throws TamperedEntry when it is a directory. */
  async removeFile(name: string): Promise<boolean> {
    await this.#checkPath();
    try {
      await this.#at(name, (entry) => unlink(entry));
      return true;
    } catch (error) {
      if (hasCode(error, "ENOENT")) return false;
      if (hasCode(error, "EISDIR", "EPERM")) throw new TamperedEntry(this.pathOf(name), "not_a_regular_file");
      throw error;
    }
  }

  /** Removes the empty subdirectory `name`; false when it is not empty or not there. */
  async removeEmptyDirectory(name: string): Promise<boolean> {
    try {
      await this.#at(name, (entry) => rmdir(entry));
      return true;
    } catch (error) {
      if (hasCode(error, "ENOENT", "ENOTEMPTY", "EEXIST", "ENOTDIR")) return false;
      throw error;
    }
  }

  /** The entry `name` itself (a link is not followed), or `undefined` when there is none. */
  async entryStats(name: string): Promise<BigIntStats | undefined> {
    try {
      return await this.#at(name, (entry) => lstat(entry, { bigint: true }));
    } catch (error) {
      if (hasCode(error, "ENOENT")) return undefined;
      throw error;
    }
  }

  /** Names of the entries, in no particular order. */
  async names(): Promise<string[]> {
    return this.#at(".", (entry) => readdir(entry));
  }

  /** Makes the directory's entries durable (fsync). */
  async sync(): Promise<void> {
    await this.handle.sync();
  }

  async close(): Promise<void> {
    await this.handle.close();
  }

  /**
   * Runs `call` on the kernel's name for entry `name`; a failure names the entry's intended path
   * (a `/proc/self/fd/…` name means nothing to a reader, and is gone once the handle closes).
   */
  async #at<T>(name: string, call: (entry: string) => Promise<T>): Promise<T> {
    const entry = this.#entry(name);
    try {
      return await call(entry);
    } catch (error) {
      if (error instanceof Error && entry !== this.pathOf(name)) {
        const fields = error as Error & { path?: unknown; dest?: unknown };
        const display = this.pathOf(name);
        error.message = error.message.replaceAll(entry, display);
        if (fields.path === entry) fields.path = display;
        if (fields.dest === entry) fields.dest = display;
      }
      throw error;
    }
  }

  /**
   * In `"path"` mode, refuses to use this directory's path when a link along it leads elsewhere
   * (a directory swapped for a link since it was opened). Nothing to check in `"descriptor"` mode,
   * where the path is never resolved again.
   */
  async #checkPath(): Promise<void> {
    if (this.confinement === "descriptor") return;
    let real: string;
    try {
      real = await realpath(this.path);
    } catch (error) {
      // A file along the path; a missing directory is an I/O failure, as in "descriptor" mode.
      if (hasCode(error, "ENOTDIR")) throw new TamperedEntry(this.path, "not_a_directory");
      throw error;
    }
    if (real !== this.path) throw new TamperedEntry(this.path, "symlink");
  }

  /** Why entry `name` could not be opened as the `expected` kind (only for the message: it may change). */
  async #tampered(name: string, expected: "directory" | "file"): Promise<TamperedEntry> {
    const stats = await this.entryStats(name).catch(() => undefined);
    const reason: TamperReason = stats?.isSymbolicLink()
      ? "symlink"
      : expected === "directory"
        ? "not_a_directory"
        : "not_a_regular_file";
    return new TamperedEntry(this.pathOf(name), reason);
  }
}

/** Whether `/proc/self/fd/<fd>/.` is the directory `handle` holds. */
async function descriptorNamesWork(handle: FileHandle): Promise<boolean> {
  try {
    const [viaProc, direct] = await Promise.all([
      stat(`/proc/self/fd/${handle.fd}/.`, { bigint: true }),
      handle.stat({ bigint: true }),
    ]);
    return viaProc.dev === direct.dev && viaProc.ino === direct.ino;
  } catch {
    return false;
  }
}

function ownedByUs(stats: { uid: number }): boolean {
  return process.getuid === undefined || stats.uid === process.getuid();
}

export function hasCode(error: unknown, ...codes: string[]): boolean {
  return (
    typeof error === "object" &&
    error !== null &&
    "code" in error &&
    typeof error.code === "string" &&
    codes.includes(error.code)
  );
}

import type { FileHandle } from "node:fs/promises";
import { type Confinement, DirectoryHandle } from "./directory-handle.js";
import { DATA_DIR, type KeyLocation, TEMP_DIR, tempName } from "./layout.js";
import { type BodyStamp, stampOf } from "./sidecar.js";

/** Bytes per write call: bounds how long one call holds a libuv thread. */
const WRITE_CHUNK_BYTES = 4 * 1024 * 1024;

/**
 * The open directory tree of one file store (see `layout.ts`): the root, `data/` and `tmp/`,
 * held open for the store's life, so no later rename of those paths can redirect the store.
 */
export class ArtifactTree {
  private constructor(
    readonly root: DirectoryHandle,
    readonly data: DirectoryHandle,
    readonly temp: DirectoryHandle,
    private readonly durable: boolean,
  ) {}

  /** Opens (creating when missing) the tree under `rootPath`. */
  static async open(
    rootPath: string,
    confinement: Confinement | undefined,
    durable: boolean,
  ): Promise<ArtifactTree> {
    const root = await DirectoryHandle.openRoot(rootPath, confinement);
    const opened: DirectoryHandle[] = [root];
    try {
      const data = await root.openDirectory(DATA_DIR, true);
      opened.push(data);
      const temp = await root.openDirectory(TEMP_DIR, true);
      return new ArtifactTree(root, data, temp, durable);
    } catch (error) {
      await Promise.all(opened.map((handle) => handle.close()));
      throw error;
    }
  }

  /**
   * Opens the fan-out folder of `location`: `undefined` when it does not exist and `create` is
   * false. The caller closes it.
   */
  async folder(location: KeyLocation, create: true): Promise<DirectoryHandle>;
  async folder(location: KeyLocation, create: boolean): Promise<DirectoryHandle | undefined>;
  async folder(location: KeyLocation, create: boolean): Promise<DirectoryHandle | undefined> {
    const [first, second] = location.folders;
    const outer = await this.data.openDirectory(first, create);
    if (outer === undefined) return undefined;
    try {
      return await outer.openDirectory(second, create);
    } finally {
      await outer.close();
    }
  }

  /**
   * Writes `bytes` to a new file in `tmp/`, then renames it over entry `name` of `folder`, so
   * readers see the old file or the new one, never a mix, even if the process dies mid-write.
   * Returns the stamp of the file now there.
   */
  async write(folder: DirectoryHandle, name: string, bytes: Uint8Array): Promise<BodyStamp> {
    const temp = tempName();
    let stamp: BodyStamp;
    try {
      const handle = await this.temp.createFile(temp);
      try {
        await writeAll(handle, bytes);
        if (this.durable) await handle.sync();
        stamp = stampOf(await handle.stat({ bigint: true }));
      } finally {
        await handle.close();
      }
      await this.temp.moveTo(temp, folder, name);
    } catch (error) {
      await this.temp.removeFile(temp).catch(() => undefined);
      throw error;
    }
    if (this.durable) await folder.sync();
    return stamp;
  }

  /**
   * Like `write`, but keeps a file already at entry `name` of `folder` (the new bytes are then
   * dropped): returns whether the new file went in.
   */
  async writeNew(folder: DirectoryHandle, name: string, bytes: Uint8Array): Promise<boolean> {
    const temp = tempName();
    try {
      const handle = await this.temp.createFile(temp);
      try {
        await writeAll(handle, bytes);
        if (this.durable) await handle.sync();
      } finally {
        await handle.close();
      }
      if (!(await this.temp.linkTo(temp, folder, name))) return false;
    } finally {
      await this.temp.removeFile(temp).catch(() => undefined);
    }
    if (this.durable) await folder.sync();
    return true;
  }

  /**
   * Links file `name` of `from` in as entry `target` of `folder`, unless something is already
   * there (false then), durably when the store is. The caller removes the old name.
   */
  async adopt(
    from: DirectoryHandle,
    name: string,
    folder: DirectoryHandle,
    target: string,
  ): Promise<boolean> {
    if (!(await from.linkTo(name, folder, target))) return false;
    if (this.durable) await folder.sync();
    return true;
  }

  /** Removes file `name` of `folder`; false when there was none. */
  async remove(folder: DirectoryHandle, name: string): Promise<boolean> {
    const removed = await folder.removeFile(name);
    if (removed && this.durable) await folder.sync();
    return removed;
  }

  async close(): Promise<void> {
    await Promise.all([this.root.close(), this.data.close(), this.temp.close()]);
  }
}

async function writeAll(handle: FileHandle, bytes: Uint8Array): Promise<void> {
  let offset = 0;
  while (offset < bytes.byteLength) {
    const length = Math.min(WRITE_CHUNK_BYTES, bytes.byteLength - offset);
    const { bytesWritten } = await handle.write(bytes, offset, length);
    offset += bytesWritten;
  }
}

import { type FileHandle, open } from "node:fs/promises";
import { OWNER_ONLY_FILE_MODE } from "../../stores/shared/owner-only-files.js";

/**
 * Opens `path` for writing, truncated, owner-only (0600) — an existing file too, since what is
 * written is a run's output: prompts, tool output, whatever secrets slipped through.
 */
export async function openOwnerOnlyForWriting(path: string): Promise<FileHandle> {
  const handle = await open(path, "w", OWNER_ONLY_FILE_MODE);
  try {
    await handle.chmod(OWNER_ONLY_FILE_MODE);
  } catch (error) {
    await handle.close();
    throw error;
  }
  return handle;
}

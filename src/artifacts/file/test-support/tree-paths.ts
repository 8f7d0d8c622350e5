/** Where a file artifact store keeps one key, for tests that look at or tamper with its tree. */
import { join } from "node:path";
import { DATA_DIR, locate } from "../layout.js";

export interface ArtifactPaths {
  /** `data/<h[0..2]>` */
  outer: string;
  /** `data/<h[0..2]>/<h[2..4]>` */
  folder: string;
  body: string;
  sidecar: string;
  /** Names of the two fan-out folders. */
  folderNames: readonly [string, string];
  /** The same, relative to the root. */
  relative: { outer: string; folder: string; body: string; sidecar: string };
}

export function artifactPaths(root: string, key: string): ArtifactPaths {
  const { folders, body, sidecar } = locate(key);
  const relative = {
    outer: join(DATA_DIR, folders[0]),
    folder: join(DATA_DIR, ...folders),
    body: join(DATA_DIR, ...folders, body),
    sidecar: join(DATA_DIR, ...folders, sidecar),
  };
  return {
    outer: join(root, relative.outer),
    folder: join(root, relative.folder),
    body: join(root, relative.body),
    sidecar: join(root, relative.sidecar),
    folderNames: folders,
    relative,
  };
}

export {
  type ExecChunk,
  type ExecOptions,
  type ExecResult,
  type ExecStream,
  exec,
  execStream,
} from "./exec.js";
export { DEFAULT_SNAPSHOT_RETENTION, SNAPSHOT_REF_PREFIX } from "./git-backend.js";
export { DEFAULT_HASH_IGNORE, DEFAULT_KEPT_CONTENT_BYTES } from "./hash-backend.js";
export type * from "./types.js";
export {
  DEFAULT_MAX_PATCH_BYTES,
  type DiffOptions,
  MAX_STORED_PATCH_BYTES,
  type RollbackOptions,
  type SnapshotOptions,
  Workspace,
  type WorkspaceOptions,
} from "./workspace.js";
export {
  type WorkspaceRunOptions,
  type WorkspaceRunReport,
  workspaceExtension,
} from "./workspace-extension.js";

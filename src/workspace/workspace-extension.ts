import { z } from "zod";
import { AsmError } from "../core/errors.js";
import type { AdapterEvent } from "../core/events.js";
import type { JsonObject } from "../core/session.js";
import type { ArtifactStore } from "../ports/artifact-store.js";
import { RUN_EXTENSION_SPECIFICATION, type RunExtension } from "../ports/run-extension.js";
import type { WorkspaceBackendName, WorkspaceDiff, WorkspaceSnapshot, WorkspaceStrategy } from "./types.js";
import { DEFAULT_MAX_PATCH_BYTES, Workspace, type WorkspaceOptions } from "./workspace.js";

/** The `workspace` option of `executeRun` / `submitRun`. */
export interface WorkspaceRunOptions {
  /** The directory the run works in. */
  path: string;
  /** Default `auto`: git inside a work tree, else hash. */
  strategy?: WorkspaceStrategy;
  /** Globs left out of the snapshots (see `SnapshotOptions.ignore`). Default: the backend's. */
  ignore?: string[];
  /** Make the patch of the run's changes. Default true. */
  capturePatch?: boolean;
  /** Inline patch cap; a larger patch goes to the artifact store (`patchRef`). Default 1 MiB. */
  maxPatchBytes?: number;
  /**
   * Put the workspace back to its state before the run when the run fails, is cancelled, times
   * out or violates its policy. With the hash backend the snapshot keeps file contents (64 MiB
   * at most, else the run is refused with `capability_not_supported` before it starts).
   * Default false.
   */
  rollbackOnFailure?: boolean;
  /** Where patches over the cap go, for this run. Default: the extension's `artifactStore`. */
  artifactStore?: ArtifactStore;
}

/** What the workspace extension reports on a completed run (`result.workspace`). */
export interface WorkspaceRunReport {
  backend: WorkspaceBackendName;
  before: WorkspaceSnapshot;
  after: WorkspaceSnapshot;
  diff: WorkspaceDiff;
}

declare module "../ports/run-extension.js" {
  interface RunExtensionOptions {
    /** Snapshot the directory before and after the run, diff it, roll it back on failure. Default: off. */
    workspace?: WorkspaceRunOptions;
  }
  interface RunResultExtensions {
    /** The run's workspace snapshots and their diff, when the run had a `workspace` option. */
    workspace: WorkspaceRunReport;
  }
}

const artifactStoreSchema = z.custom<ArtifactStore>(
  (value) =>
    typeof value === "object" &&
    value !== null &&
    typeof (value as ArtifactStore).put === "function" &&
    typeof (value as ArtifactStore).get === "function",
  { message: "must be an ArtifactStore" },
);

const workspaceOptionSchema = z.strictObject({
  path: z.string().min(1),
  strategy: z.enum(["git", "hash", "auto"]).optional(),
  ignore: z.array(z.string().min(1)).optional(),
  capturePatch: z.boolean().optional(),
  maxPatchBytes: z.number().int().nonnegative().optional(),
  rollbackOnFailure: z.boolean().optional(),
  artifactStore: artifactStoreSchema.optional(),
});

/**
 * Snapshots a run's workspace (`executeRun({ workspace: { path, … } })`) before the provider
 * starts and after it stopped, logs `workspace_snapshot_taken` (label `before` / `after`) and
 * `workspace_diff_computed` (files changed, insertions, deletions, paths, the patch or its
 * artifact key, whether untracked files count), and records the diff on the run
 * (`run.metadata.workspace`) and on a completed run's result (`result.workspace`). With
 * `rollbackOnFailure` a run that fails, is cancelled, times out or violates its policy has its
 * workspace rolled back, recorded in `run.metadata.workspace.rollback`.
 *
 * A `before` snapshot that cannot be taken refuses the run before the provider starts; an `after`
 * snapshot, diff or rollback that fails fails a completing run, and is recorded
 * (`run.metadata.workspace.error` and a non-fatal `error_occurred`) on a run that failed already.
 */
export function workspaceExtension(options: WorkspaceOptions = {}): RunExtension {
  const shared = new Workspace(options);
  return {
    specificationVersion: RUN_EXTENSION_SPECIFICATION,
    name: "workspace",
    optionSchemas: { workspace: workspaceOptionSchema.optional() },
    start: async ({ options: runOptions, append }) => {
      const given = runOptions.workspace as WorkspaceRunOptions | undefined;
      if (!given) return undefined;
      const workspace = given.artifactStore
        ? new Workspace({ ...options, artifactStore: given.artifactStore })
        : shared;
      const rollbackOnFailure = given.rollbackOnFailure === true;
      const snapshotOptions = {
        ...(given.strategy ? { strategy: given.strategy } : {}),
        ...(given.ignore ? { ignore: given.ignore } : {}),
      };
      const before = await workspace.snapshot(given.path, {
        ...snapshotOptions,
        label: "before",
        ...(rollbackOnFailure ? { keepContents: true } : {}),
      });
      if (rollbackOnFailure && before.backend === "hash" && !before.hasContents) {
        throw new AsmError(
          "capability_not_supported",
          `rollbackOnFailure cannot be honoured: ${before.path} is over the 64 MiB the hash backend keeps`,
          {
            details: { path: before.path, backend: "hash" },
            hint: "use a git repository for large workspaces, or run without rollbackOnFailure",
          },
        );
      }
      await append(snapshotEvent(before));

      return {
        finish: async (end) => {
          const failed = end.outcome.status !== "completed" || end.failure !== undefined;
          // Kept as they are made, so a failure part-way still reports what was done.
          let after: WorkspaceSnapshot | undefined;
          let diff: WorkspaceDiff | undefined;
          try {
            after = await workspace.snapshot(given.path, { ...snapshotOptions, label: "after" });
            await append(snapshotEvent(after));
            diff = await workspace.diff(before, after, {
              capturePatch: given.capturePatch ?? true,
              maxPatchBytes: given.maxPatchBytes ?? DEFAULT_MAX_PATCH_BYTES,
            });
            await append(diffEvent(diff));
            const rollback = failed && rollbackOnFailure ? await workspace.rollback(before) : undefined;
            const report: WorkspaceRunReport = { backend: before.backend, before, after, diff };
            return {
              metadata: {
                workspace: {
                  ...summary(before, after, diff),
                  ...(rollback ? { rollback: { ...rollback } } : {}),
                },
              },
              ...(failed ? {} : { result: { workspace: report } }),
            };
          } catch (caught) {
            const error = AsmError.from(caught);
            const metadata = { workspace: { ...summary(before, after, diff), error: error.toJSON() } };
            if (!failed) return { failure: error, metadata };
            await append(workspaceError(error));
            return { metadata };
          }
        },
      };
    },
  };
}

function snapshotEvent(snapshot: WorkspaceSnapshot): AdapterEvent {
  return {
    type: "workspace_snapshot_taken",
    data: {
      label: snapshot.label ?? "",
      backend: snapshot.backend,
      ref: snapshot.ref,
      snapshotId: snapshot.id,
      path: snapshot.path,
      includesUntracked: snapshot.includesUntracked,
    },
  };
}

function diffEvent(diff: WorkspaceDiff): AdapterEvent {
  return {
    type: "workspace_diff_computed",
    data: { ...diffSummary(diff), ...(diff.patch ? { patch: diff.patch } : {}) },
  };
}

/** The diff without its patch text: what run metadata keeps. */
function diffSummary(diff: WorkspaceDiff) {
  return {
    backend: diff.backend,
    filesChanged: diff.filesChanged,
    insertions: diff.insertions,
    deletions: diff.deletions,
    paths: diff.paths,
    hasPatch: diff.patch !== undefined || diff.patchRef !== undefined,
    includesUntracked: diff.includesUntracked,
    ...(diff.binary.length > 0 ? { binary: diff.binary } : {}),
    ...(diff.patchBytes !== undefined ? { patchBytes: diff.patchBytes } : {}),
    ...(diff.patchRef ? { patchRef: diff.patchRef } : {}),
    ...(diff.patchTruncated ? { patchTruncated: true } : {}),
  };
}

function summary(
  before: WorkspaceSnapshot,
  after: WorkspaceSnapshot | undefined,
  diff: WorkspaceDiff | undefined,
): JsonObject {
  return {
    backend: before.backend,
    path: before.path,
    beforeRef: before.ref,
    ...(after ? { afterRef: after.ref } : {}),
    ...(diff ? { diff: diffSummary(diff) } : {}),
  };
}

function workspaceError(error: AsmError): AdapterEvent {
  return {
    type: "error_occurred",
    data: {
      errorCode: error.code,
      errorMessage: error.message,
      fatal: false,
      details: { ...error.details, extension: "workspace" },
    },
  };
}

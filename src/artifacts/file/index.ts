export type { Confinement } from "./directory-handle.js";
export { FileArtifactStore, type FileArtifactStoreOptions } from "./file-artifact-store.js";

export { FileArtifactStore, type FileArtifactStoreOptions } from "./file-artifact-store.js";

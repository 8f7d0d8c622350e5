// Importing this module does not load the AWS SDK: the store imports it on first use.
export { S3ArtifactStore, type S3ArtifactStoreOptions } from "./s3-artifact-store.js";

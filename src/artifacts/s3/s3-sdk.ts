import { AsmError } from "../../core/errors.js";
import { lazyImport, moduleNotFound } from "../../utils/lazy-import.js";

/** The AWS SDK modules the S3 store uses, loaded on first use. */
export interface S3Sdk {
  s3: typeof import("@aws-sdk/client-s3");
  storage: typeof import("@aws-sdk/lib-storage");
}

const PACKAGES = ["@aws-sdk/client-s3", "@aws-sdk/lib-storage"] as const;

/**
 * Imports the AWS SDK. It is an optional peer dependency, loaded only here and only when an S3
 * store first talks to S3.
 *
 * @throws AsmError `dependency_not_available` when a package is not installed.
 */
export const loadS3Sdk: () => Promise<S3Sdk> = lazyImport(
  () =>
    Promise.all([import("@aws-sdk/client-s3"), import("@aws-sdk/lib-storage")]).then(([s3, storage]) => ({
      s3,
      storage,
    })),
  sdkLoadError,
);

/**
 * Any import failure as `dependency_not_available`: a missing package (the usual case), or one
 * that is installed but cannot load (a broken install, an incompatible version).
 */
export function sdkLoadError(error: unknown): AsmError {
  const message = error instanceof Error ? error.message : String(error);
  const notFoundError = moduleNotFound(error);
  const notFound = notFoundError !== undefined;
  const missing = PACKAGES.find((name) => String(notFoundError?.message).includes(name));
  return new AsmError(
    "dependency_not_available",
    notFound
      ? `the S3 artifact store needs ${missing ?? PACKAGES.join(" and ")}, which is not installed`
      : `the AWS SDK is installed but failed to load: ${message}`,
    {
      details: { packages: [...PACKAGES], ...(notFound && missing !== undefined ? { missing } : {}) },
      hint: notFound
        ? `Install the AWS SDK: npm install ${PACKAGES.join(" ")}`
        : `Reinstall the AWS SDK (npm install ${PACKAGES.join(" ")}) and check that both packages have the same version.`,
      cause: error,
    },
  );
}

import { AsmError } from "../../core/errors.js";
import { type ProviderIdentity, sdkNotInstalled } from "./provider-failures.js";

function isModuleNotFound(error: unknown): boolean {
  return (
    typeof error === "object" &&
    error !== null &&
    "code" in error &&
    (error.code === "ERR_MODULE_NOT_FOUND" || error.code === "MODULE_NOT_FOUND")
  );
}

/** Runs `importer`, turning a missing package into `dependency_not_available` with an install hint. */
export async function importOptionalSdk<T>(
  provider: ProviderIdentity,
  packageName: string,
  importer: () => Promise<T>,
): Promise<T> {
  try {
    return await importer();
  } catch (error) {
    if (isModuleNotFound(error)) throw sdkNotInstalled(provider, packageName, error);
    throw new AsmError("dependency_not_available", `cannot load ${packageName}: ${String(error)}`, {
      hint: `reinstall ${packageName}`,
      cause: error,
    });
  }
}

/**
 * A provider SDK (an optional peer dependency) imported the first time a run needs it, so
 * importing an adapter costs nothing for users of other providers. A failed import is not
 * cached: installing the package fixes the next run.
 */
export function optionalSdk<T>(
  provider: ProviderIdentity,
  packageName: string,
  importer: () => Promise<T>,
): () => Promise<T> {
  let cached: Promise<T> | undefined;
  return () => {
    if (cached) return cached;
    const loading = importOptionalSdk(provider, packageName, importer);
    cached = loading;
    loading.catch(() => {
      if (cached === loading) cached = undefined;
    });
    return loading;
  };
}

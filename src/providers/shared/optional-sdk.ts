import { AsmError } from "../../core/errors.js";
import { lazyImport, moduleNotFound } from "../../utils/lazy-import.js";
import { type ProviderIdentity, sdkNotInstalled } from "./provider-failures.js";

/** A provider SDK that failed to import: not installed (with an install hint), or broken. */
function sdkLoadError(provider: ProviderIdentity, packageName: string, error: unknown): AsmError {
  if (moduleNotFound(error)) return sdkNotInstalled(provider, packageName, error);
  return new AsmError("dependency_not_available", `cannot load ${packageName}: ${String(error)}`, {
    hint: `reinstall ${packageName}`,
    cause: error,
  });
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
  return lazyImport(importer, (error) => sdkLoadError(provider, packageName, error));
}

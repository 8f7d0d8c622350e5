/**
 * An optional peer dependency, imported the first time it is needed, so importing this package
 * (or the adapter that uses it) never pays for it or needs it installed. The import is shared
 * by every caller while it loads and once it has loaded; a failure is not kept — installing the
 * package fixes the next call — and becomes the error `toError` makes of it.
 */
export function lazyImport<T>(
  importer: () => Promise<T>,
  toError: (error: unknown) => Error,
): () => Promise<T> {
  let loading: Promise<T> | undefined;
  return () => {
    if (loading) return loading;
    const attempt = importer().catch((error: unknown) => {
      throw toError(error);
    });
    loading = attempt;
    attempt.catch(() => {
      if (loading === attempt) loading = undefined;
    });
    return attempt;
  };
}

/**
 * The module-not-found error in `error` or its causes (module runners and bundlers, vitest for
 * one, wrap the loader's error in their own); `undefined` when the import failed otherwise.
 */
export function moduleNotFound(error: unknown): Error | undefined {
  let current = error;
  for (let depth = 0; depth < 5 && current instanceof Error; depth++) {
    const code = "code" in current ? current.code : undefined;
    if (code === "ERR_MODULE_NOT_FOUND" || code === "MODULE_NOT_FOUND") return current;
    current = current.cause;
  }
  return undefined;
}

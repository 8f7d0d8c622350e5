import { AsmError } from "../../core/errors.js";
import type { JsonObject } from "../../core/session.js";
import type { ExecuteRequest, ResumePoint } from "../../ports/provider-adapter.js";

/**
 * A provider's own per-run options: `request.providerOptions[name]`, `{}` when the namespace is
 * absent. The other namespaces belong to other providers and are never looked at, so a router can
 * hand one request to any candidate. The caller validates what it gets against its own schema
 * (strictly: a typo in its own namespace is a `validation_error`, never dropped).
 * Throws `validation_error` when the namespace is not an object.
 */
export function ownProviderOptions(request: ExecuteRequest, name: string): JsonObject {
  // A request built by hand (not by the manager) may come without any namespace at all.
  const all: Readonly<Record<string, unknown>> = request.providerOptions ?? {};
  const own = Object.hasOwn(all, name) ? all[name] : undefined;
  if (own === undefined) return {};
  if (typeof own !== "object" || own === null || Array.isArray(own)) {
    throw new AsmError(
      "validation_error",
      `invalid ${name} run options: providerOptions.${name} must be an object`,
      {
        details: { provider: name },
      },
    );
  }
  return own as JsonObject;
}

/**
 * The resume point the manager derived for provider `name`, when it is for the native session
 * `providerSessionId` the run resumes; otherwise `undefined` (the run continues a session this asm
 * session's log knows nothing about, or not the latest one: its baseline is unknown).
 */
export function resumePointFor(
  request: ExecuteRequest,
  name: string,
  providerSessionId: string,
): ResumePoint | undefined {
  const point =
    request.resumePoints && Object.hasOwn(request.resumePoints, name)
      ? request.resumePoints[name]
      : undefined;
  return point?.providerSessionId === providerSessionId ? point : undefined;
}

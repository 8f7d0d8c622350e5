import { createHash, timingSafeEqual } from "node:crypto";
import { isIP } from "node:net";
import type { MiddlewareHandler } from "hono";
import { AsmError } from "../core/errors.js";
import { HttpError } from "./errors-to-http.js";

/** Whether `host` names only this machine: `localhost`, 127.0.0.0/8 or `::1`. */
export function isLoopbackHost(host: string): boolean {
  const bare = host.startsWith("[") && host.endsWith("]") ? host.slice(1, -1) : host;
  if (bare === "localhost") return true;
  if (isIP(bare) === 4) return bare.startsWith("127.");
  if (isIP(bare) === 6) return bare === "::1" || bare === "0:0:0:0:0:0:0:1";
  return false;
}

export interface ListenSecurity {
  host: string;
  token?: string;
  dev?: boolean;
}

/**
 * Refuses a configuration that would expose the API without a token: a non-loopback address
 * always needs one; a loopback one needs one unless `dev` says the open API is intended.
 */
export function checkListenSecurity({ host, token, dev }: ListenSecurity): void {
  if (token !== undefined && token.length < 16) {
    throw new AsmError("validation_error", "the API token must be at least 16 characters", {
      hint: "generate one, e.g. `openssl rand -hex 32`",
    });
  }
  if (token !== undefined) return;
  if (!isLoopbackHost(host)) {
    throw new AsmError("invalid_operation", `refusing to serve on ${host} without a token`, {
      details: { host },
      hint: "give --token (or ASM_TOKEN), or bind to 127.0.0.1 with --dev",
    });
  }
  if (!dev) {
    throw new AsmError("invalid_operation", "a token is required", {
      details: { host },
      hint: "give --token (or ASM_TOKEN); on loopback, --dev serves without one",
    });
  }
}

const digest = (value: string): Buffer => createHash("sha256").update(value).digest();

/**
 * Requires `Authorization: Bearer <token>`. Both sides are hashed first, so the comparison is
 * constant-time whatever the lengths (timingSafeEqual needs equal lengths, and comparing
 * lengths first would leak the token's).
 */
export function bearerAuth(token: string): MiddlewareHandler {
  const expected = digest(token);
  return async (c, next) => {
    const header = c.req.header("authorization") ?? "";
    const match = /^Bearer\s+(\S+)$/i.exec(header);
    if (!match?.[1] || !timingSafeEqual(digest(match[1]), expected)) {
      c.header("www-authenticate", 'Bearer realm="asm"');
      throw new HttpError(
        "unauthorized",
        match ? "the bearer token is wrong" : "a bearer token is required",
        "send Authorization: Bearer <token> (the server's --token / ASM_TOKEN)",
      );
    }
    return next();
  };
}

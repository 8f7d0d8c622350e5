import { readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { StaticMount } from "./app.js";

/**
 * The files of a dashboard build (`npm run build` writes them into dist/dashboard), and the only
 * ones served: a request path is looked up in this list, it never reaches the filesystem.
 */
export const DASHBOARD_FILES = ["index.html", "app.js", "app.css"] as const;

const CONTENT_TYPES: Record<(typeof DASHBOARD_FILES)[number], string> = {
  "index.html": "text/html; charset=utf-8",
  "app.js": "text/javascript; charset=utf-8",
  "app.css": "text/css; charset=utf-8",
};

/**
 * The UI talks to its own origin only; no inline script, no framing (clickjacking on the
 * approve buttons), no referrer leaking session ids.
 */
const SECURITY_HEADERS = {
  "content-security-policy":
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'",
  "x-content-type-options": "nosniff",
  "referrer-policy": "no-referrer",
  "x-frame-options": "DENY",
};

/** Where the built dashboard sits next to the compiled server: dist/server → dist/dashboard. */
export const DEFAULT_DASHBOARD_DIR = fileURLToPath(new URL("../dashboard/", import.meta.url));

/**
 * The dashboard built in `dir`, read into memory once. `undefined` when the build is not there
 * (a checkout that was not built): the server then answers 404 outside the API.
 */
export function loadDashboard(dir: string = DEFAULT_DASHBOARD_DIR): StaticMount | undefined {
  const files = new Map<string, { body: Uint8Array; type: string }>();
  for (const name of DASHBOARD_FILES) {
    let body: Uint8Array;
    try {
      body = readFileSync(join(dir, name));
    } catch {
      return undefined;
    }
    files.set(`/${name}`, { body, type: CONTENT_TYPES[name] });
  }
  const index = files.get("/index.html");
  if (index) files.set("/", index);
  return {
    fetch(request) {
      const path = new URL(request.url).pathname;
      const file = files.get(path);
      if (!file || (request.method !== "GET" && request.method !== "HEAD")) {
        return new Response("not found\n", {
          status: 404,
          headers: { "content-type": "text/plain; charset=utf-8", ...SECURITY_HEADERS },
        });
      }
      return new Response(request.method === "HEAD" ? null : file.body, {
        headers: {
          "content-type": file.type,
          // Same names on every build: always revalidate, so an upgrade is never half-applied.
          "cache-control": "no-cache",
          ...SECURITY_HEADERS,
        },
      });
    },
  };
}

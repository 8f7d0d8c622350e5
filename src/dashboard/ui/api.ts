import { AsmClient } from "../../client/index.js";

const TOKEN_KEY = "asm.token";

/**
 * The API token: taken from a `#token=…` link (what `asm serve` can print; a fragment never
 * reaches the server or its logs), then kept in this tab's sessionStorage only.
 */
export function readToken(): string | undefined {
  const match = /^#token=([^&]+)/.exec(location.hash);
  if (match?.[1]) {
    sessionStorage.setItem(TOKEN_KEY, decodeURIComponent(match[1]));
    history.replaceState(null, "", `${location.pathname}#/`);
  }
  return sessionStorage.getItem(TOKEN_KEY) ?? undefined;
}

export function saveToken(token: string): void {
  sessionStorage.setItem(TOKEN_KEY, token);
}

export function makeClient(token: string | undefined): AsmClient {
  return new AsmClient({ baseUrl: location.origin, ...(token ? { token } : {}) });
}

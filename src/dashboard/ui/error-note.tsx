import { AsmApiError } from "../../client/index.js";

/** An API error as the API words it: its message, code and hint. */
export function ErrorNote({ error }: { error: unknown }) {
  if (error === undefined) return null;
  const message = error instanceof Error ? error.message : String(error);
  return (
    <p class="error" role="alert">
      {message}
      {error instanceof AsmApiError ? (
        <>
          {" "}
          <code>{error.code}</code>
          {error.hint ? <span class="hint"> — {error.hint}</span> : null}
        </>
      ) : null}
    </p>
  );
}

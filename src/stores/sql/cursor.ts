import { AsmError } from "../../core/errors.js";
import { isRecord } from "../../utils/is-record.js";

/**
 * Keyset cursors: base64url of the JSON `{ o, v, id }` — the page's `orderBy`, the sort value
 * (an ISO timestamp) and the id of the last item returned. The next page starts strictly after
 * `(v, id)` in that order, so items sharing a timestamp are neither skipped nor repeated, and
 * items written meanwhile do not shift the pages (unlike an offset).
 */
export interface CursorPosition {
  /** The sort value of the last item of the previous page. */
  value: string;
  /** Its id: the tie-breaker among items with the same sort value. */
  id: string;
}

export function encodeCursor(orderBy: string, position: CursorPosition): string {
  return Buffer.from(JSON.stringify({ o: orderBy, v: position.value, id: position.id })).toString(
    "base64url",
  );
}

/** Reads a cursor made by `encodeCursor` for `orderBy`; anything else is `invalid_cursor`. */
export function decodeCursor(cursor: unknown, orderBy: string): CursorPosition {
  const fields = typeof cursor === "string" ? parse(cursor) : undefined;
  if (
    fields === undefined ||
    typeof fields.v !== "string" ||
    Number.isNaN(Date.parse(fields.v)) ||
    typeof fields.id !== "string" ||
    fields.id === ""
  ) {
    throw invalidCursor("the cursor is malformed", { cursor });
  }
  if (fields.o !== orderBy) {
    throw invalidCursor(`the cursor belongs to orderBy ${JSON.stringify(fields.o)}, not ${orderBy}`, {
      cursor,
      cursorOrderBy: fields.o,
      orderBy,
    });
  }
  return { value: fields.v, id: fields.id };
}

function parse(cursor: string): Record<string, unknown> | undefined {
  // Buffer.from ignores characters outside the alphabet; refuse them rather than guess.
  if (!/^[A-Za-z0-9_-]+$/.test(cursor)) return undefined;
  try {
    const value: unknown = JSON.parse(Buffer.from(cursor, "base64url").toString("utf8"));
    return isRecord(value) ? value : undefined;
  } catch {
    return undefined;
  }
}

function invalidCursor(message: string, details: Record<string, unknown>): AsmError {
  return new AsmError("invalid_cursor", message, {
    details,
    hint: "Pass back the nextCursor of a page from the same kind of search with the same orderBy.",
  });
}

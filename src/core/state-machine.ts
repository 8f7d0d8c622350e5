import { AsmError } from "./errors.js";

/** A transition table: for each status, the statuses it may move to. */
export type TransitionTable<S extends string> = { readonly [K in S]: readonly S[] };

export function canTransition<S extends string>(table: TransitionTable<S>, from: S, to: S): boolean {
  return table[from].includes(to);
}

/** Throws `invalid_transition` unless `from → to` is in the table. */
export function assertTransition<S extends string>(
  table: TransitionTable<S>,
  entity: "session" | "run",
  id: string,
  from: S,
  to: S,
): void {
  if (!canTransition(table, from, to)) {
    const allowed = table[from];
    throw new AsmError(
      "invalid_transition",
      `${entity} ${id} cannot go from ${from} to ${to}` +
        (allowed.length > 0 ? ` (allowed: ${allowed.join(", ")})` : ` (${from} is final)`),
      { details: { entity, id, from, to, allowed: [...allowed] } },
    );
  }
}

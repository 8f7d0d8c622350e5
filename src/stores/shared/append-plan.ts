import { AsmError } from "../../core/errors.js";
import type { AsmEvent, EventDraft } from "../../core/events.js";
import { toStoredEvent } from "./event-draft.js";

/** What an append writes and what it answers. */
export interface SequencedAppend {
  /** The new events to store, in input order, each id once. */
  inserted: AsmEvent[];
  /** One stored event per draft, in input order: new, or the one already stored under its id. */
  results: AsmEvent[];
}

/**
 * An append whose ids are checked but whose sequences are not reserved yet: the half of
 * `sequenceAppend` before any write, for stores that reserve sequences asynchronously
 * (PostgreSQL). Reserve `counts`, then `complete` with each session's new highest sequence.
 */
export interface AppendPlan {
  /** How many new sequences each session needs, by session id, in first-seen order. */
  readonly counts: ReadonlyMap<string, number>;
  /** Numbers the new events: `lastSequences` maps each session of `counts` to its new highest sequence. */
  complete(lastSequences: ReadonlyMap<string, number>): SequencedAppend;
}

/**
 * The store-independent part of `appendEvents`: idempotency by id and sequence assignment.
 *
 * `drafts` are normalized; `stored` holds the already-stored events among their ids. A draft
 * whose id is stored, or repeated earlier in the batch, answers with that event; if it names a
 * different session it is `already_exists`, since ids are unique across sessions. `reserve`
 * claims `count` sequences for a session and returns the session's new highest sequence (it
 * throws `session_not_found`); it is called once per session, after every id has been checked,
 * so a store whose `reserve` mutates state only needs to know the sessions exist beforehand.
 */
export function sequenceAppend(
  drafts: readonly EventDraft[],
  stored: ReadonlyMap<string, AsmEvent>,
  reserve: (sessionId: string, count: number) => number,
): SequencedAppend {
  const plan = planAppend(drafts, stored);
  const lastSequences = new Map<string, number>();
  for (const [sessionId, count] of plan.counts) lastSequences.set(sessionId, reserve(sessionId, count));
  return plan.complete(lastSequences);
}

/** `sequenceAppend` up to the reservation; see `AppendPlan`. Throws `already_exists` like it. */
export function planAppend(drafts: readonly EventDraft[], stored: ReadonlyMap<string, AsmEvent>): AppendPlan {
  const reservations = new Map<string, Reservation>();
  const pending: { event: AsmEvent; reservation: Reservation }[] = [];
  const fresh = new Map<string, AsmEvent>();
  const results = drafts.map((draft, index) => {
    const known = stored.get(draft.id) ?? fresh.get(draft.id);
    if (known !== undefined) {
      if (known.sessionId !== draft.sessionId) {
        throw new AsmError(
          "already_exists",
          `event id ${draft.id} is already used in session ${known.sessionId}, not ${draft.sessionId}`,
          { details: { id: draft.id, index, sessionId: draft.sessionId, storedSessionId: known.sessionId } },
        );
      }
      return known;
    }
    let reservation = reservations.get(draft.sessionId);
    if (reservation === undefined) {
      reservation = { count: 0, next: 0 };
      reservations.set(draft.sessionId, reservation);
    }
    reservation.count += 1;
    // The sequence is filled in by `complete`, once sequences are reserved.
    const event = toStoredEvent(draft, 0);
    fresh.set(draft.id, event);
    pending.push({ event, reservation });
    return event;
  });
  return {
    counts: new Map([...reservations].map(([sessionId, { count }]) => [sessionId, count])),
    complete: (lastSequences) => {
      for (const [sessionId, reservation] of reservations) {
        const last = lastSequences.get(sessionId);
        if (last === undefined) {
          throw new AsmError("internal_error", `no sequences were reserved for session ${sessionId}`);
        }
        reservation.next = last - reservation.count + 1;
      }
      for (const { event, reservation } of pending) event.sequence = reservation.next++;
      return { inserted: pending.map(({ event }) => event), results };
    },
  };
}

interface Reservation {
  count: number;
  next: number;
}

/** The stored event answered for an append of one draft. */
export function soleEvent(results: readonly AsmEvent[]): AsmEvent {
  const [event] = results;
  if (event === undefined || results.length !== 1) {
    throw new AsmError("internal_error", `an append of one draft answered ${results.length} events`);
  }
  return event;
}

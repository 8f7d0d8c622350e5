/** Words at the end of a delta carried into the next one: `Authorization: Bearer <tok` is three. */
const CARRIED_WORDS = 4;
/** At most this many characters of trailing words are carried (a long JWT fits). */
const MAX_CARRIED_CHARS = 4096;
/** An open private key block is carried whole up to this size (a 16384-bit RSA key is ~13 KB). */
const MAX_CARRIED_KEY_BLOCK = 64 * 1024;

/** What the window reads of an event: an adapter's, or one stored (an export's). */
export interface StreamedEvent {
  type: unknown;
  data: unknown;
  timestamp?: string;
}

interface Held<E> {
  event: E;
  /** When a delta without a timestamp of its own was emitted: it is forwarded later. */
  emittedAt: Date | undefined;
  stream: unknown;
  /** The delta's text that stays in this event. */
  head: string;
  /** The text carried into the stream's next delta, if one comes next. */
  tail: string;
}

/**
 * Redaction sees one event at a time, so a secret a provider streams in two `message_streamed`
 * deltas (`AKIAIOSF` + `ODNN7EXAMPLE`) would pass in two harmless-looking halves. This window
 * holds a run's last delta back until the next event and moves the delta's end — its last few
 * words, or an unfinished `-----BEGIN … PRIVATE KEY-----` block — into the next delta of the
 * same stream, so the pattern sees the secret whole. Nothing is added or dropped: every delta
 * is forwarded once, in order, with its own timestamp; only where the text is cut moves.
 *
 * The held delta is forwarded when any other event of the run arrives (with its end, which then
 * has nowhere to go), or on `release()` (the run drains or ends). A delta ending a line is not
 * held: line-oriented output (a shell command's) stays live, and a secret does not span lines
 * (except a key block, which is carried). Limits: a secret split around an event of another
 * kind or another stream (stdout, stderr) is seen in two parts; a single word longer than
 * `MAX_CARRIED_CHARS` or a key block longer than `MAX_CARRIED_KEY_BLOCK` is carried only in part.
 */
export class StreamRedactionWindow<E extends StreamedEvent> {
  private held: Held<E> | undefined;

  /**
   * `forward` receives the events, in order, ready to be redacted and stored, with the time a
   * held one was emitted (undefined when the event has its own timestamp or was not held).
   */
  constructor(private readonly forward: (event: E, emittedAt: Date | undefined) => void) {}

  accept(event: E): void {
    const delta = deltaOf(event);
    if (delta === undefined) {
      this.release();
      this.forward(event, undefined);
      return;
    }
    const stream = (event.data as { stream?: unknown }).stream;
    let text = delta;
    const held = this.held;
    if (held) {
      this.held = undefined;
      if (held.stream === stream) {
        text = held.tail + delta;
        this.forward(withDelta(held.event, held.head), held.emittedAt);
      } else {
        this.forward(withDelta(held.event, held.head + held.tail), held.emittedAt);
      }
    }
    const cut = carryStart(text);
    if (cut === text.length) {
      this.forward(text === delta ? event : withDelta(event, text), undefined);
      return;
    }
    // The event is stored later, but it happened now.
    const emittedAt = event.timestamp === undefined ? new Date() : undefined;
    this.held = { event, emittedAt, stream, head: text.slice(0, cut), tail: text.slice(cut) };
  }

  /** Forwards the held delta, whole. */
  release(): void {
    const held = this.held;
    if (!held) return;
    this.held = undefined;
    this.forward(withDelta(held.event, held.head + held.tail), held.emittedAt);
  }
}

function deltaOf(event: StreamedEvent): string | undefined {
  if (event?.type !== "message_streamed") return undefined;
  const data: unknown = event.data;
  if (typeof data !== "object" || data === null) return undefined;
  const { delta } = data as { delta?: unknown };
  return typeof delta === "string" ? delta : undefined;
}

function withDelta<E extends StreamedEvent>(event: E, delta: string): E {
  return { ...event, data: { ...(event.data as object), delta } };
}

/** Where the carried end of `text` starts; `text.length` when nothing needs carrying. */
export function carryStart(text: string): number {
  let cut = text.length;
  const begin = text.lastIndexOf("-----BEGIN");
  if (begin >= 0 && !text.includes("-----END", begin) && text.length - begin <= MAX_CARRIED_KEY_BLOCK) {
    cut = begin;
  }
  const last = text.charCodeAt(text.length - 1);
  if (Number.isNaN(last) || last === LINE_FEED || last === CARRIAGE_RETURN) return cut;
  const floor = Math.max(0, text.length - MAX_CARRIED_CHARS);
  let index = text.length;
  for (let words = 0; words < CARRIED_WORDS && index > floor; words++) {
    while (index > floor && isBlank(text.charCodeAt(index - 1))) index--;
    while (index > floor && !isSpace(text.charCodeAt(index - 1))) index--;
    if (index > floor && isLineBreak(text.charCodeAt(index - 1))) break;
  }
  return Math.min(cut, index);
}

const LINE_FEED = 10;
const CARRIAGE_RETURN = 13;

function isLineBreak(code: number): boolean {
  return code === LINE_FEED || code === CARRIAGE_RETURN;
}

/** Spaces and tabs between words on one line. */
function isBlank(code: number): boolean {
  return code === 32 || code === 9;
}

function isSpace(code: number): boolean {
  return isBlank(code) || isLineBreak(code) || code === 11 || code === 12;
}

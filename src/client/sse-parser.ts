/** One dispatched server-sent event. */
export interface SseMessage {
  /** The `id:` field, when the event had one. */
  id?: string;
  /** The `event:` field; `message` when absent. */
  event: string;
  data: string;
}

/**
 * An incremental `text/event-stream` parser (the WHATWG rules this API needs): fields per line,
 * an event dispatched at a blank line only — so an event cut by a dropped connection is never
 * dispatched — comment lines (`:`) reported apart, CR, LF and CRLF line ends.
 */
export class SseParser {
  #buffer = "";
  #id: string | undefined;
  #event = "";
  #data: string[] = [];
  #hasData = false;

  /** Feeds a chunk; returns the events and comments it completed, in order. */
  push(chunk: string): Array<{ message: SseMessage } | { comment: string }> {
    this.#buffer += chunk;
    const out: Array<{ message: SseMessage } | { comment: string }> = [];
    for (;;) {
      const match = /\r\n|\r|\n/.exec(this.#buffer);
      if (!match) break;
      // A lone CR at the end of a chunk may be the first half of CRLF: wait for the next chunk.
      if (match[0] === "\r" && match.index === this.#buffer.length - 1) break;
      const line = this.#buffer.slice(0, match.index);
      this.#buffer = this.#buffer.slice(match.index + match[0].length);
      this.#line(line, out);
    }
    return out;
  }

  #line(line: string, out: Array<{ message: SseMessage } | { comment: string }>): void {
    if (line === "") {
      if (this.#hasData) {
        out.push({
          message: {
            ...(this.#id !== undefined ? { id: this.#id } : {}),
            event: this.#event || "message",
            data: this.#data.join("\n"),
          },
        });
      }
      this.#id = undefined;
      this.#event = "";
      this.#data = [];
      this.#hasData = false;
      return;
    }
    if (line.startsWith(":")) {
      out.push({ comment: line.slice(1).trimStart() });
      return;
    }
    const colon = line.indexOf(":");
    const field = colon === -1 ? line : line.slice(0, colon);
    let value = colon === -1 ? "" : line.slice(colon + 1);
    if (value.startsWith(" ")) value = value.slice(1);
    if (field === "id") this.#id = value;
    else if (field === "event") this.#event = value;
    else if (field === "data") {
      this.#data.push(value);
      this.#hasData = true;
    }
  }
}

/** Byte length of the UTF-8 sequence a lead byte starts (1 for ASCII and for stray continuation bytes). */
function sequenceLength(lead: number): number {
  if (lead >= 0xf0) return 4;
  if (lead >= 0xe0) return 3;
  if (lead >= 0xc0) return 2;
  return 1;
}

function isContinuation(byte: number | undefined): boolean {
  return byte !== undefined && (byte & 0xc0) === 0x80;
}

/** The length of `bytes` without a multibyte character cut off at its end. */
function withoutPartialTail(bytes: Buffer): number {
  let start = bytes.length - 1;
  while (start > 0 && bytes.length - start < 4 && isContinuation(bytes[start])) start -= 1;
  if (start < 0) return 0;
  return bytes.length - start < sequenceLength(bytes[start] ?? 0) ? start : bytes.length;
}

/** Keeps the first `limit` bytes written; later bytes are only noted as cut. For stdout: the answer starts first. */
export class HeadBuffer {
  readonly #limit: number;
  readonly #chunks: Buffer[] = [];
  #kept = 0;
  #truncated = false;

  constructor(limit: number) {
    this.#limit = limit;
  }

  write(chunk: Buffer): void {
    const room = this.#limit - this.#kept;
    if (chunk.length > room) this.#truncated = true;
    if (room <= 0) return;
    const part = chunk.length > room ? chunk.subarray(0, room) : chunk;
    this.#chunks.push(part);
    this.#kept += part.length;
  }

  get truncated(): boolean {
    return this.#truncated;
  }

  /** The kept bytes as text; when cut, cut back further to a whole UTF-8 character. */
  text(): string {
    const bytes = Buffer.concat(this.#chunks);
    return (this.#truncated ? bytes.subarray(0, withoutPartialTail(bytes)) : bytes).toString("utf8");
  }
}

/** Keeps the last `limit` bytes written. For stderr: a failing program says why last. */
export class TailBuffer {
  readonly #limit: number;
  readonly #chunks: Buffer[] = [];
  #size = 0;
  #truncated = false;

  constructor(limit: number) {
    this.#limit = limit;
  }

  write(chunk: Buffer): void {
    this.#chunks.push(chunk);
    this.#size += chunk.length;
    // Drop whole chunks only while what remains still covers the limit; text() trims the rest.
    for (let first = this.#chunks[0]; first !== undefined; first = this.#chunks[0]) {
      if (this.#size - first.length < this.#limit) break;
      this.#chunks.shift();
      this.#size -= first.length;
      this.#truncated = true;
    }
  }

  get truncated(): boolean {
    return this.#truncated || this.#size > this.#limit;
  }

  /** The last `limit` bytes as text, starting on a whole UTF-8 character. */
  text(): string {
    const bytes = Buffer.concat(this.#chunks);
    let start = Math.max(0, bytes.length - this.#limit);
    if (start > 0 || this.#truncated) {
      while (start < bytes.length && isContinuation(bytes[start])) start += 1;
    }
    return bytes.subarray(start).toString("utf8");
  }
}

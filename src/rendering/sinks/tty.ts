import { once } from "node:events";
import type { Sink } from "../types.js";

export interface TtySinkOptions {
  /** Where to write. Default `process.stdout`. */
  stream?: NodeJS.WritableStream;
}

/** Writes the rendered text as it is, colours and cursor control included, to a terminal (or any stream). */
export class TtySink implements Sink {
  readonly name = "tty";
  private readonly stream: NodeJS.WritableStream;

  constructor(options: TtySinkOptions = {}) {
    this.stream = options.stream ?? process.stdout;
  }

  write(text: string): Promise<void> | undefined {
    if (text === "") return undefined;
    // A slow reader (a pipe, a paused terminal) holds the pipeline back rather than buffering without bound.
    return this.stream.write(text) ? undefined : once(this.stream, "drain").then(() => undefined);
  }

  writeEvent(_event: unknown, text: string): Promise<void> | undefined {
    return this.write(text);
  }
}

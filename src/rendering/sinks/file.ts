import type { FileHandle } from "node:fs/promises";
import { AsmError } from "../../core/errors.js";
import { CLEAR_LINE, stripAnsi } from "../terminal.js";
import type { Sink } from "../types.js";
import { openOwnerOnlyForWriting } from "./owner-only-file.js";

export type FileSinkOptions =
  /** A file to create (or truncate), owner-only (0600); the sink closes it. */
  | { path: string }
  /** A stream already open (with a header written, say); the sink writes to it and leaves it open. */
  | { stream: NodeJS.WritableStream };

/**
 * Writes the rendered text to a log file as plain text: colours and cursor codes removed, and
 * a line a terminal would have redrawn (a spinner, a running tool replaced by its result) kept
 * only as it was last drawn, so the file reads as the terminal ended up looking.
 */
export class FileSink implements Sink {
  readonly name: string;
  private handle: FileHandle | undefined;
  /** The line being written, held until its newline: a redraw replaces it. */
  private pending = "";

  constructor(private readonly options: FileSinkOptions) {
    this.name = "path" in options ? `file ${options.path}` : "file";
  }

  async init(): Promise<void> {
    if ("path" in this.options) this.handle = await openOwnerOnlyForWriting(this.options.path);
  }

  write(text: string): Promise<void> | undefined {
    const complete = this.settle(text);
    return complete === "" ? undefined : this.append(complete);
  }

  writeEvent(_event: unknown, text: string): Promise<void> | undefined {
    return this.write(text);
  }

  async flush(): Promise<void> {
    const rest = this.pending;
    this.pending = "";
    if (rest !== "") await this.append(rest);
    await this.handle?.sync();
  }

  async close(): Promise<void> {
    const handle = this.handle;
    this.handle = undefined;
    await handle?.close();
  }

  /** The completed lines in `text`; a redraw (`\r`, erase line) drops what the current line held. */
  private settle(text: string): string {
    let complete = "";
    for (const [index, segment] of stripAnsi(text.replaceAll("\r\n", "\n").replaceAll(CLEAR_LINE, "\r"))
      .split("\n")
      .entries()) {
      if (index > 0) {
        complete += `${this.pending}\n`;
        this.pending = "";
      }
      const redrawn = segment.lastIndexOf("\r");
      this.pending = redrawn === -1 ? this.pending + segment : segment.slice(redrawn + 1);
    }
    return complete;
  }

  private async append(text: string): Promise<void> {
    if ("stream" in this.options) {
      const { stream } = this.options;
      await new Promise<void>((resolve, reject) =>
        stream.write(text, (error) => (error ? reject(error) : resolve())),
      );
      return;
    }
    if (this.handle === undefined) throw new AsmError("invalid_operation", `${this.name} is not open`);
    await this.handle.write(text);
  }
}

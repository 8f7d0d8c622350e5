import type { AsmEvent } from "../../core/events.js";
import type { Sink } from "../types.js";

export interface CallbackSinkOptions {
  /** Called with each event and the renderer's text for it; awaited when it returns a promise. */
  callback: (event: AsmEvent, text: string) => void | Promise<void>;
  /** Called with text no event produced (the renderer's finish, spinner frames). Default: ignored. */
  onText?: (text: string) => void | Promise<void>;
}

/** Hands each event, with its rendered text, to a function: the pipeline as a programmable event processor. */
export class CallbackSink implements Sink {
  readonly name = "callback";

  constructor(private readonly options: CallbackSinkOptions) {}

  write(text: string): void | Promise<void> {
    return this.options.onText?.(text);
  }

  writeEvent(event: AsmEvent, text: string): void | Promise<void> {
    return this.options.callback(event, text);
  }
}

import type { EventEmitter } from "node:events";
import { signalExitCode } from "./output.js";

/**
 * The signals that ask a command to stop: Ctrl-C (SIGINT), Ctrl-\ (SIGQUIT), `kill` (SIGTERM)
 * and a closed terminal (SIGHUP). Left to their default action they would end asm at once,
 * leaving a run unrecorded and its provider's processes (in a group of their own, which the
 * terminal does not signal) running on.
 */
export const TERMINATING_SIGNALS = ["SIGINT", "SIGTERM", "SIGHUP", "SIGQUIT"] as const;
export type TerminatingSignal = (typeof TERMINATING_SIGNALS)[number];

/** Why a command was stopped early. */
export type Interrupt = { kind: "signal"; signal: TerminatingSignal } | { kind: "stdout_closed" };

export interface InterruptionOptions {
  /**
   * Called for every terminating signal after the first (`count` 2 for the second, …): the user
   * insists. Default: nothing more happens (the first one already aborted `signal`).
   */
  onRepeat?: (count: number, signal: TerminatingSignal) => void;
  /** Where signals are listened for. Default: `process`. */
  signals?: EventEmitter;
  /** The output whose failure (EPIPE: the reader went away) interrupts. Default: `process.stdout`. */
  stdout?: NodeJS.WritableStream;
  /** Output whose failures are ignored: nothing is left to report them to. Default: `process.stderr`. */
  stderr?: NodeJS.WritableStream;
}

/**
 * What stops a command early — a terminating signal, or a stdout nobody reads anymore
 * (`asm … | head`) — as one AbortSignal: the first of them aborts it, and the command winds down
 * the way Ctrl-C makes it (a run is cancelled and recorded, a follow ends). While installed, the
 * signals do not end the process by themselves, and a failing stdout or stderr does not crash it.
 * Call `dispose()` once the command is done. One per process: it handles the process's output.
 */
export class Interruption {
  readonly #controller = new AbortController();
  readonly #options: InterruptionOptions;
  readonly #signals: EventEmitter;
  readonly #stdout: NodeJS.WritableStream;
  readonly #stderr: NodeJS.WritableStream;
  #interrupt: Interrupt | undefined;
  #signalCount = 0;

  constructor(options: InterruptionOptions = {}) {
    this.#options = options;
    this.#signals = options.signals ?? process;
    this.#stdout = options.stdout ?? process.stdout;
    this.#stderr = options.stderr ?? process.stderr;
    for (const name of TERMINATING_SIGNALS) this.#signals.on(name, this.#onSignal);
    this.#stdout.on("error", this.#onStdoutError);
    this.#stderr.on("error", ignore);
  }

  /** Aborts on the first interruption. */
  get signal(): AbortSignal {
    return this.#controller.signal;
  }

  /** The first interruption, if any. */
  get interrupt(): Interrupt | undefined {
    return this.#interrupt;
  }

  /**
   * The exit code an interrupted command ends with, as a shell reports a process a signal ended:
   * 128 + the signal's number (130 for SIGINT, 143 for SIGTERM, 129 for SIGHUP, 131 for SIGQUIT),
   * and 141 — SIGPIPE's — for a closed stdout. Undefined when not interrupted.
   */
  get exitCode(): number | undefined {
    const interrupt = this.#interrupt;
    if (interrupt === undefined) return undefined;
    return signalExitCode(interrupt.kind === "signal" ? interrupt.signal : "SIGPIPE");
  }

  /**
   * Gives the signals their default action back. Output failures stay handled: a write's EPIPE
   * is reported a tick after the write, possibly after the command returned.
   */
  dispose(): void {
    for (const name of TERMINATING_SIGNALS) this.#signals.off(name, this.#onSignal);
  }

  readonly #onSignal = (signal: TerminatingSignal): void => {
    this.#signalCount += 1;
    if (this.#signalCount === 1) this.#stop({ kind: "signal", signal });
    else this.#options.onRepeat?.(this.#signalCount, signal);
  };

  readonly #onStdoutError = (): void => {
    // EPIPE (the reader is gone), EIO (the terminal is): nothing printed from now on is read.
    this.#stop({ kind: "stdout_closed" });
  };

  #stop(interrupt: Interrupt): void {
    if (this.#interrupt !== undefined) return;
    this.#interrupt = interrupt;
    this.#controller.abort(interrupt);
  }
}

function ignore(): void {}

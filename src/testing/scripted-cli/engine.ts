import { spawn } from "node:child_process";
import { readFileSync, renameSync, writeFileSync } from "node:fs";
import { setTimeout as sleep } from "node:timers/promises";
import {
  isDirective,
  SCRIPTED_CLI_ENV,
  type ScriptedCliProvider,
  type ScriptedCliRecord,
  SECRET_ENV_NAME,
  type TranscriptLine,
} from "./protocol.js";

/** What a profile can do while the transcript plays. */
export interface ScriptIo {
  /** Writes one frame to stdout as a JSON line. */
  writeFrame(frame: unknown): Promise<void>;
  readonly argv: readonly string[];
  /**
   * Stops playing the transcript, as a CLI that was told to stop its turn (Claude's `interrupt`
   * control request): a `$delay` or `$stall` being played ends (a stall's child is stopped), and
   * nothing more of the transcript is written. False when the line being played ignores
   * interrupts (`$ignoreInterrupt`) or the transcript is already over.
   */
  interruptTranscript(): boolean;
}

/**
 * How one provider's CLI behaves around the transcript: how it reads stdin, what it answers by
 * itself, how it ends. A new provider's fake is a profile plus a three-line entry file.
 */
export interface ScriptedCliProfile {
  provider: ScriptedCliProvider;
  /**
   * `ndjson`: stdin carries JSON lines as the run goes (Claude's stream-json input), each
   * recorded parsed and passed to `onStdinFrame`. `text`: stdin carries the prompt, closed after it
   * (Codex, Amp without `--stream-json-input`).
   */
  stdinMode(argv: readonly string[]): "ndjson" | "text";
  /** Answers stdin frames the real CLI answers by itself (Claude's control requests). */
  onStdinFrame?(frame: Record<string, unknown>, io: ScriptIo): Promise<void> | void;
  /**
   * Read stdin to its end before playing the transcript, as CLIs that take the prompt on stdin do
   * (Codex; Amp without `--stream-json-input`). Default: play at once.
   */
  readsStdinFirst?(argv: readonly string[]): boolean;
  /** When the transcript ends without `$exit`: exit at once, or once stdin is closed (Claude). */
  atEnd: "exit" | "await_stdin_eof";
  /** Values of `{{name}}` placeholders (prompt and cwd are added by the engine). */
  variables(argv: readonly string[]): Record<string, string>;
  /**
   * The settings file the CLI was given (Amp's `--settings-file`), recorded as `settings`: the
   * adapter may remove it as soon as the run ends. Default: none.
   */
  settingsFile?(argv: readonly string[]): string | undefined;
}

/** `--name=value` or `--name value`; undefined when absent. */
export function flagValue(argv: readonly string[], name: string): string | undefined {
  for (let i = 0; i < argv.length; i += 1) {
    const arg = argv[i];
    if (arg === name) return argv[i + 1];
    if (arg?.startsWith(`${name}=`)) return arg.slice(name.length + 1);
  }
  return undefined;
}

/** The word after `word` in argv (`resume <id>`); undefined when absent. */
export function wordAfter(argv: readonly string[], ...words: string[]): string | undefined {
  for (let i = 0; i + words.length < argv.length; i += 1) {
    if (words.every((word, offset) => argv[i + offset] === word)) return argv[i + words.length];
  }
  return undefined;
}

const STDIN_TIMEOUT_MS = 30_000;
/** Cap on waiting for stdin to close at the end (a real CLI would wait forever). */
const END_EOF_TIMEOUT_MS = 60_000;

class StdinState {
  readonly lines: unknown[] = [];
  text = "";
  closed = false;
  readonly #waiters = new Set<() => void>();

  changed(): void {
    for (const waiter of this.#waiters) waiter();
  }

  /** Resolves true once `predicate` holds, false after `timeoutMs`. */
  waitFor(predicate: () => boolean, timeoutMs: number): Promise<boolean> {
    if (predicate()) return Promise.resolve(true);
    return new Promise((resolve) => {
      const waiter = (): void => {
        if (!predicate()) return;
        clearTimeout(timer);
        this.#waiters.delete(waiter);
        resolve(true);
      };
      const timer = setTimeout(() => {
        this.#waiters.delete(waiter);
        resolve(false);
      }, timeoutMs);
      this.#waiters.add(waiter);
    });
  }
}

function redactedEnv(env: NodeJS.ProcessEnv): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(env)) {
    if (value === undefined) continue;
    out[name] = SECRET_ENV_NAME.test(name) ? "[redacted]" : value;
  }
  return out;
}

function fail(message: string, code: number): never {
  process.stderr.write(`scripted-cli: ${message}\n`);
  process.exit(code);
}

function loadTranscript(file: string): TranscriptLine[] {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (error) {
    fail(`cannot read scenario ${file}: ${error instanceof Error ? error.message : String(error)}`, 98);
  }
  const lines: TranscriptLine[] = [];
  for (const [index, line] of text.split("\n").entries()) {
    if (line.trim() === "") continue;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch (error) {
      fail(`${file}:${index + 1}: ${error instanceof Error ? error.message : String(error)}`, 97);
    }
    if (typeof value !== "object" || value === null || Array.isArray(value)) {
      fail(`${file}:${index + 1}: each transcript line must be a JSON object`, 97);
    }
    lines.push(value as TranscriptLine);
  }
  return lines;
}

function fill(value: unknown, variables: Record<string, string>): unknown {
  if (typeof value === "string") {
    return value.replace(/\{\{(\w+)\}\}/g, (match, name: string) => variables[name] ?? match);
  }
  if (Array.isArray(value)) return value.map((item) => fill(item, variables));
  if (typeof value === "object" && value !== null) {
    return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, fill(item, variables)]));
  }
  return value;
}

function write(stream: NodeJS.WriteStream, text: string | Buffer): Promise<void> {
  return new Promise((resolve) => {
    // The callback runs once the data is handed to the OS, so an $exit right after loses nothing.
    stream.write(text, () => resolve());
  });
}

/** Plays the transcript named by the environment as `profile`'s CLI. Never returns. */
export async function runScriptedCli(profile: ScriptedCliProfile): Promise<never> {
  const argv = process.argv.slice(2);
  const scenario = process.env[SCRIPTED_CLI_ENV.scenario];
  if (!scenario) fail(`${SCRIPTED_CLI_ENV.scenario} is not set`, 2);
  const recordPath = process.env[SCRIPTED_CLI_ENV.record];
  const transcript = loadTranscript(scenario);
  const stdin = new StdinState();
  const record: ScriptedCliRecord = {
    provider: profile.provider,
    pid: process.pid,
    argv,
    cwd: process.cwd(),
    env: redactedEnv(process.env),
    stdin: stdin.lines,
    stdinClosed: false,
    childPids: [],
    stalled: false,
    ...recordedSettings(profile.settingsFile?.(argv)),
  };
  const saveRecord = (): void => {
    if (!recordPath) return;
    const temp = `${recordPath}.${process.pid}.tmp`;
    writeFileSync(temp, JSON.stringify(record, null, 2));
    renameSync(temp, recordPath);
  };
  saveRecord();

  // A reader that went away (the SDK closed our stdout) is the end of the run for us.
  process.stdout.on("error", () => process.exit(0));

  let playing = true;
  let ignoringInterrupts = false;
  let interrupted = false;
  let wakeInterrupted = (): void => {};
  const interruption = new Promise<void>((resolve) => {
    wakeInterrupted = resolve;
  });
  const io: ScriptIo = {
    argv,
    writeFrame: (frame) => write(process.stdout, `${JSON.stringify(frame)}\n`),
    interruptTranscript: () => {
      if (!playing || ignoringInterrupts) return false;
      interrupted = true;
      wakeInterrupted();
      return true;
    },
  };

  const mode = profile.stdinMode(argv);
  let pending = "";
  const onLine = (line: string): void => {
    if (line.trim() === "") return;
    let frame: unknown;
    try {
      frame = JSON.parse(line);
    } catch {
      frame = { raw: line };
    }
    stdin.lines.push(frame);
    saveRecord();
    if (profile.onStdinFrame && typeof frame === "object" && frame !== null && !Array.isArray(frame)) {
      void profile.onStdinFrame(frame as Record<string, unknown>, io);
    }
  };
  process.stdin.setEncoding("utf8");
  process.stdin.on("data", (chunk: string) => {
    stdin.text += chunk;
    if (mode === "ndjson") {
      pending += chunk;
      let newline = pending.indexOf("\n");
      while (newline !== -1) {
        onLine(pending.slice(0, newline));
        pending = pending.slice(newline + 1);
        newline = pending.indexOf("\n");
      }
    } else {
      saveRecord();
    }
    stdin.changed();
  });
  process.stdin.on("end", () => {
    if (mode === "ndjson" && pending.trim() !== "") onLine(pending);
    if (mode === "text") stdin.lines.push(stdin.text);
    stdin.closed = true;
    record.stdinClosed = true;
    saveRecord();
    stdin.changed();
  });
  process.stdin.on("error", () => {
    stdin.closed = true;
    stdin.changed();
  });

  const variables = (): Record<string, string> => ({
    cwd: process.cwd(),
    prompt: promptOf(stdin, mode),
    ...profile.variables(argv),
  });

  const exit = async (code: number): Promise<never> => {
    record.exitCode = code;
    saveRecord();
    process.exit(code);
  };

  if (profile.readsStdinFirst?.(argv) && !(await stdin.waitFor(() => stdin.closed, STDIN_TIMEOUT_MS))) {
    process.stderr.write("scripted-cli: timed out waiting for stdin to close\n");
    await exit(3);
  }

  for (const line of transcript) {
    if (interrupted) break;
    if (!isDirective(line)) {
      await io.writeFrame(fill(line, variables()));
      continue;
    }
    if ("$delay" in line) {
      await Promise.race([sleep(line.$delay), interruption]);
    } else if ("$awaitStdin" in line) {
      const wanted = line.$awaitStdin;
      const seen = stdin.lines.length;
      const ok = await stdin.waitFor(
        () =>
          wanted === "eof"
            ? stdin.closed
            : wanted === "line"
              ? stdin.lines.length > seen || stdin.closed
              : stdin.lines.some((frame) => typeOf(frame) === wanted),
        line.$timeoutMs ?? STDIN_TIMEOUT_MS,
      );
      if (!ok) {
        process.stderr.write(`scripted-cli: timed out waiting for stdin (${wanted})\n`);
        await exit(3);
      }
    } else if ("$stall" in line) {
      if (line.$ignoreSigterm) process.on("SIGTERM", () => {});
      ignoringInterrupts = line.$ignoreInterrupt === true;
      // Same process group as this CLI: whoever stops the run must stop the whole tree.
      const child = spawn("sleep", ["3600"], { stdio: "ignore" });
      if (child.pid !== undefined) record.childPids.push(child.pid);
      record.stalled = true;
      saveRecord();
      const keepAlive = setInterval(() => {}, 60_000);
      // Only an interrupt ends a stall (the real CLI stops its tool); anything else must kill it.
      await interruption;
      clearInterval(keepAlive);
      child.kill("SIGKILL");
    } else if ("$exit" in line) {
      if (line.$stderr)
        await write(process.stderr, line.$stderr.endsWith("\n") ? line.$stderr : `${line.$stderr}\n`);
      await exit(line.$exit);
    } else if ("$stderr" in line) {
      await write(process.stderr, line.$stderr.endsWith("\n") ? line.$stderr : `${line.$stderr}\n`);
    } else if ("$raw" in line) {
      await write(process.stdout, `${line.$raw}\n`);
    } else if ("$bytes" in line) {
      const bytes = Buffer.from(line.$bytes, "base64");
      for (let i = 0; i < (line.$repeat ?? 1); i += 1) await write(process.stdout, bytes);
    } else if ("$oversized" in line) {
      const prefix = '{"type":"oversized","pad":"';
      const suffix = '"}';
      const padding = Math.max(0, line.$oversized - prefix.length - suffix.length);
      await write(process.stdout, `${prefix}${"x".repeat(padding)}${suffix}\n`);
    } else if ("$crash" in line) {
      process.kill(process.pid, "SIGKILL");
      await new Promise<never>(() => {});
    }
    // $comment: nothing to do.
  }
  playing = false;

  if (profile.atEnd === "await_stdin_eof") {
    const closed = await stdin.waitFor(() => stdin.closed, END_EOF_TIMEOUT_MS);
    if (!closed) process.stderr.write("scripted-cli: stdin was never closed; exiting\n");
  }
  return exit(0);
}

/** `{ settings }` parsed from `file`, `{ settings: { unreadable } }` when it cannot be, `{}` without a file. */
function recordedSettings(file: string | undefined): Pick<ScriptedCliRecord, "settings"> {
  if (file === undefined) return {};
  try {
    return { settings: JSON.parse(readFileSync(file, "utf8")) };
  } catch (error) {
    return { settings: { unreadable: error instanceof Error ? error.message : String(error) } };
  }
}

function typeOf(frame: unknown): unknown {
  return typeof frame === "object" && frame !== null && "type" in frame ? frame.type : undefined;
}

/** The prompt text received so far: the text of the first user frame, or all of stdin. */
function promptOf(stdin: StdinState, mode: "ndjson" | "text"): string {
  if (mode === "text") return stdin.text.replace(/\n$/, "");
  for (const frame of stdin.lines) {
    if (typeOf(frame) !== "user" || typeof frame !== "object" || frame === null || !("message" in frame))
      continue;
    const message = frame.message;
    if (typeof message !== "object" || message === null || !("content" in message)) continue;
    const content = message.content;
    if (typeof content === "string") return content;
    if (Array.isArray(content)) {
      return content
        .map((block: unknown) =>
          typeof block === "object" && block !== null && "text" in block && typeof block.text === "string"
            ? block.text
            : "",
        )
        .join("");
    }
  }
  return "";
}

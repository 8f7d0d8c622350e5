/**
 * What every renderer writes with: colours, the studio's symbols, cursor control, and the one
 * place provider text is made safe for a terminal (`neutralise`) or a log file (`stripAnsi`).
 */

const CODES = {
  red: 31,
  green: 32,
  yellow: 33,
  blue: 34,
  magenta: 35,
  cyan: 36,
  gray: 90,
  bold: 1,
  dim: 2,
} as const;
export type Color = keyof typeof CODES;

/** `text` in `color` when `enabled`; as is otherwise (and always when empty). */
export function paint(enabled: boolean, color: Color, text: string): string {
  return enabled && text !== "" ? `\u001b[${CODES[color]}m${text}\u001b[0m` : text;
}

/** The studio renderer's status symbols. */
export const SYMBOLS = { info: "●", running: "◐", success: "✓", failure: "✗" } as const;

/** The spinner's frames on a terminal: the running symbol turning. */
export const SPINNER_FRAMES = ["◐", "◓", "◑", "◒"] as const;

/** Back to the start of the line and erase it: how a terminal line is redrawn. */
export const CLEAR_LINE = "\r\u001b[2K";

/**
 * C0 controls but tab and newline, DEL and C1 controls: the start of every terminal escape
 * sequence (ESC, CSI, OSC, DCS…) and the characters that move the cursor or ring the bell.
 */
// biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the point.
const CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/g;

/**
 * `text` with every control character but tab and newline written as a visible `\xNN` escape
 * (`\x1b[31m`, `\x07`), so provider output can neither restyle the terminal, move its cursor,
 * set its title nor hide text from the reader. A CR ending a line (`\r\n`) is dropped. Every
 * human renderer writes what came from a provider through it; the log, `--json` and the JSONL
 * sink keep the text as it came.
 */
export function neutralise(text: string): string {
  return text
    .replaceAll("\r\n", "\n")
    .replace(CONTROL, (char) => `\\x${char.charCodeAt(0).toString(16).padStart(2, "0")}`);
}

// SGR colours and the cursor moves and erasures renderers write (CSI … m/A–H/J/K).
// biome-ignore lint/suspicious/noControlCharactersInRegex: matching escape sequences is the point.
const ANSI_SEQUENCE = /\u001b\[[0-9;?]*[mABCDEFGHJK]/g;

/** `text` without colour and cursor sequences: what a log file keeps of terminal output. */
export function stripAnsi(text: string): string {
  return text.replace(ANSI_SEQUENCE, "");
}

/**
 * `text` cut to `columns` characters (code points; wide characters count as one) with `…`
 * marking the cut, so a status line never wraps and can be redrawn in place.
 * Escape sequences are not counted: pass plain text and colour it after.
 */
export function fitWidth(text: string, columns: number | undefined): string {
  if (columns === undefined || columns <= 0) return text;
  const chars = Array.from(text);
  return chars.length <= columns ? text : `${chars.slice(0, Math.max(0, columns - 1)).join("")}…`;
}

/** `text` on one line, whitespace runs collapsed, cut to `limit` characters with `…`. */
export function preview(text: string, limit: number): string {
  return fitWidth(text.replaceAll(/\s+/g, " ").trim(), limit);
}

/** The renderers' default for `color`: stdout is a terminal and `NO_COLOR` is not set. */
export function colorByDefault(): boolean {
  return process.stdout.isTTY === true && !process.env.NO_COLOR;
}

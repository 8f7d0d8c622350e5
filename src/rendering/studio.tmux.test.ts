import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { CLI } from "../cli/test-support/cli.js";

// The studio renderer on a real terminal: `asm run` (the built CLI) in a tmux pane of a known
// size, read back with capture-pane — what a person sees, after the terminal applied every
// carriage return, erase and wrap.
const SOCKET = `asm-rendering-${process.pid}`;
const dir = mkdtempSync(path.join(tmpdir(), "asm-tmux-"));
afterAll(() => {
  try {
    execFileSync("tmux", ["-L", SOCKET, "kill-server"], { stdio: "ignore" });
  } catch {
    // No server left: every session already ended.
  }
  rmSync(dir, { recursive: true, force: true });
});

function tmux(...args: string[]): string {
  return execFileSync("tmux", ["-L", SOCKET, ...args], { encoding: "utf8" });
}

/** Starts `asm run -p shell -- <command>` in a detached pane of `columns` × 24; the pane stays after asm exits. */
function startPane(name: string, columns: number, command: string[]): void {
  const args = ["run", "-p", "shell", "--db", path.join(dir, `${name}.db`), "--", ...command];
  const quoted = [process.execPath, CLI, ...args]
    .map((word) => `'${word.replaceAll("'", "'\\''")}'`)
    .join(" ");
  tmux(
    "new-session",
    "-d",
    "-s",
    name,
    "-x",
    String(columns),
    "-y",
    "24",
    `${quoted}; echo "EXIT=$?"; sleep 60`,
  );
}

const screen = (name: string) => tmux("capture-pane", "-p", "-t", name);

/** Captures the pane until `done` holds of it (at most `limitMs`); every capture is kept. */
async function watch(name: string, done: (text: string) => boolean, limitMs = 20_000): Promise<string[]> {
  const captures: string[] = [];
  const deadline = Date.now() + limitMs;
  for (;;) {
    const text = screen(name);
    captures.push(text);
    if (done(text)) return captures;
    if (Date.now() > deadline) throw new Error(`pane ${name} never got there; last screen:\n${text}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

const FRAMES = /^#\d+ ([◐◓◑◒]) Running: sh -c sleep 3; echo slept$/m;

describe("StudioRenderer in a terminal (tmux)", () => {
  it("turns a spinner on the running tool's line, then replaces that line with the tool's summary", async () => {
    startPane("spin", 80, ["sh", "-c", "sleep 3; echo slept"]);
    const frames = new Set<string>();
    await watch("spin", (text) => {
      const frame = FRAMES.exec(text)?.[1];
      if (frame !== undefined) frames.add(frame);
      return frames.size >= 2 || text.includes("EXIT=");
    });
    // The symbol turned while the command slept: the same line redrawn with another frame.
    expect(frames.size).toBeGreaterThanOrEqual(2);
    const [final = ""] = (await watch("spin", (text) => text.includes("EXIT="))).slice(-1);
    expect(final).toContain("EXIT=0");
    const lines = final.split("\n");
    expect(lines.filter((line) => /Running: sh -c sleep 3/.test(line))).toEqual([]);
    expect(
      lines.some((line) => /^#\d+ ✓ Ran: sh -c sleep 3; echo slept \(exit 0, \d+(\.\d)?s\)$/.test(line)),
    ).toBe(true);
    expect(lines.some((line) => /^#\d+ slept$/.test(line))).toBe(true);
    expect(lines.some((line) => /^#\d+ ✓ run completed · exit_code_0 · \d+ ms · 1 tool$/.test(line))).toBe(
      true,
    );
  });

  it("cuts status lines to the terminal's width, so none wraps and the running line is redrawn in place", async () => {
    const long = `echo ${"x".repeat(70)}`;
    startPane("narrow", 40, ["sh", "-c", `sleep 2; ${long}`]);
    const captures = await watch("narrow", (text) => text.includes("EXIT="));
    const final = (captures[captures.length - 1] ?? "").split("\n");
    const ran = final.find((line) => line.includes("✓ Ran:"));
    expect(ran).toMatch(/^#\d+ ✓ Ran: sh -c sleep 2; echo x+…$/);
    expect(Array.from(ran ?? "").length).toBeLessThan(40);
    // Each status line is on one row: the row after it starts a new line of its own.
    for (const line of final.filter((row) => /^#\d+ [●◐✓✗]/.test(row))) {
      expect(Array.from(line).length).toBeLessThan(40);
    }
    const next = final[final.indexOf(ran ?? "") + 1] ?? "";
    expect(next === "" || /^#\d+ /.test(next)).toBe(true);
    // While it ran, one row showed the running tool; none was left behind.
    expect(captures.some((text) => /^#\d+ [◐◓◑◒] Running: sh -c sleep 2; echo x+…$/m.test(text))).toBe(true);
    expect(final.filter((line) => line.includes("Running:"))).toEqual([]);
  });
});

import { readFile, writeFile } from "node:fs/promises";
import { AsmError } from "../../core/errors.js";
import type { SessionExport } from "../../ports/query-api.js";
import { withStore } from "../open-store.js";
import { EXIT, printJson } from "../output.js";

export interface ExportOptions {
  db?: string;
  out?: string;
}

/** `asm export <sessionId>`: the whole session as JSON, to stdout or a file. */
export function exportCommand(sessionId: string, options: ExportOptions): Promise<number> {
  return withStore(options.db, false, async (store) => {
    const data = await store.query.exportSession(sessionId);
    const text = `${JSON.stringify(data, null, 2)}\n`;
    if (options.out) await writeFile(options.out, text);
    else process.stdout.write(text);
    return EXIT.ok;
  });
}

export interface ImportOptions {
  db?: string;
  json?: boolean;
}

/** `asm import <file>` (`-` reads stdin): writes an export into the store, ids and sequences kept. */
export function importCommand(file: string, options: ImportOptions): Promise<number> {
  const json = options.json === true;
  return withStore(options.db, json, async (store) => {
    const data = parseExport(file, file === "-" ? await readStdin() : await readFile(file, "utf8"));
    const { sessionId } = await store.query.importSession(data);
    const events = data.events.length;
    if (json) printJson({ sessionId, runs: data.runs.length, events });
    else process.stdout.write(`imported ${sessionId} (${data.runs.length} runs, ${events} events)\n`);
    return EXIT.ok;
  });
}

function parseExport(file: string, text: string): SessionExport {
  try {
    // The store validates the shape; this only turns unreadable JSON into a clear error.
    return JSON.parse(text) as SessionExport;
  } catch (error) {
    throw new AsmError("invalid_format", `${file} is not JSON: ${(error as Error).message}`, {
      hint: "pass a file written by: asm export <sessionId> --out <file>",
    });
  }
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}

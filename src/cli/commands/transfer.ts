import { readFile } from "node:fs/promises";
import { resolve } from "node:path";
import { AsmError } from "../../core/errors.js";
import { Redactor } from "../../core/redaction.js";
import type { SessionExport } from "../../ports/query-api.js";
import { writeOwnerOnlyFile } from "../../stores/shared/owner-only-files.js";
import { parseSessionExport } from "../../stores/sql/export-format.js";
import { READ_ONLY, withStore } from "../open-store.js";
import { EXIT, printJson, reportError } from "../output.js";

export interface ExportOptions {
  db?: string;
  out?: string;
  /** `--no-redact` sets it false. Default true: secrets are redacted from what is written. */
  redact?: boolean;
}

/**
 * `asm export <sessionId>`: the whole session as JSON, to stdout or a file (created owner-only).
 * Secrets are redacted from it unless `--no-redact`: the store may hold them (written by a
 * process without redaction), and an export is meant to travel.
 */
export function exportCommand(sessionId: string, options: ExportOptions): Promise<number> {
  return withStore(
    options.db,
    false,
    async (store) => {
      const exported = await store.query.exportSession(sessionId);
      const data = options.redact === false ? exported : new Redactor().redactSessionExport(exported).value;
      const text = `${JSON.stringify(data, null, 2)}\n`;
      if (options.out) await writeOwnerOnlyFile(options.out, text);
      else process.stdout.write(text);
      return EXIT.ok;
    },
    READ_ONLY,
  );
}

export interface ImportOptions {
  db?: string;
  json?: boolean;
  /** `--no-redact` sets it false. Default true: secrets in the file are redacted before they are stored. */
  redact?: boolean;
}

/**
 * `asm import <file>` (`-` reads stdin): writes an export into the store, ids and sequences kept.
 * Like every CLI write, secrets are redacted first unless `--no-redact` (the file may come from
 * `asm export --no-redact`, or from elsewhere).
 */
export async function importCommand(file: string, options: ImportOptions): Promise<number> {
  const json = options.json === true;
  let given: SessionExport;
  try {
    // Read before the store is opened: a file that is not there must not create a database.
    given = parseExport(file, file === "-" ? await readStdin() : await readExportFile(file));
  } catch (error) {
    return reportError(error, json);
  }
  return withStore(options.db, json, async (store) => {
    // Checked before it is redacted, so a malformed file is the store's `validation_error`.
    const data =
      options.redact === false ? given : new Redactor().redactSessionExport(parseSessionExport(given)).value;
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

/** The export file's text; a file that cannot be read is the request's fault (exit 2), said plainly. */
async function readExportFile(file: string): Promise<string> {
  try {
    return await readFile(file, "utf8");
  } catch (error) {
    const errno = (error as NodeJS.ErrnoException).code;
    const hint = "pass a file written by: asm export <sessionId> --out <file>, or - for stdin";
    if (errno === "ENOENT") {
      throw new AsmError("not_found", `no file at ${resolve(file)}`, {
        cause: error,
        details: { file },
        hint,
      });
    }
    throw new AsmError("invalid_input", `cannot read ${resolve(file)}: ${(error as Error).message}`, {
      cause: error,
      details: { file, ...(errno ? { errno } : {}) },
      hint,
    });
  }
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}

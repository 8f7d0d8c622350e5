import { AsmError } from "../../core/errors.js";
import type { SessionStatus } from "../../core/session.js";
import type { SessionSearch } from "../../ports/query-api.js";
import { READ_ONLY, withStore } from "../open-store.js";
import { EXIT, paint, printJson, reportError, styleFor } from "../output.js";

export interface SearchOptions {
  db?: string;
  agent?: string;
  status?: string;
  provider?: string;
  tag?: string[];
  since?: string;
  until?: string;
  includeDeleted?: boolean;
  order?: SessionSearch["orderBy"];
  limit: number;
  cursor?: string;
  json?: boolean;
}

const UNIT_MS = { m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 } as const;
const TIME_AGO = /^(\d+)([mhdw])$/;
const ISO_DATE = /^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?)?$/;

/**
 * `--since` / `--until` as an ISO 8601 instant: an ISO 8601 date or date-time (a date alone is
 * its midnight UTC, a time without zone is local), or a time ago — `30m`, `24h`, `7d`, `2w`.
 */
export function timeFlag(flag: string, value: string, now: Date = new Date()): string {
  const ago = TIME_AGO.exec(value);
  if (ago)
    return new Date(now.getTime() - Number(ago[1]) * UNIT_MS[ago[2] as keyof typeof UNIT_MS]).toISOString();
  const time = ISO_DATE.test(value) ? new Date(value) : undefined;
  if (time === undefined || Number.isNaN(time.getTime())) {
    throw new AsmError(
      "validation_error",
      `${flag} ${value}: expected an ISO 8601 date or date-time, or a time ago`,
      {
        details: { flag, value },
        hint: `e.g. ${flag} 2026-01-31, ${flag} 2026-01-31T09:00:00Z, ${flag} 24h or ${flag} 7d`,
      },
    );
  }
  return time.toISOString();
}

/** `asm sessions search`: filters answered by the database, one page at a time. */
export async function searchSessionsCommand(options: SearchOptions): Promise<number> {
  const json = options.json === true;
  let createdAfter: string | undefined;
  let createdBefore: string | undefined;
  try {
    createdAfter = options.since === undefined ? undefined : timeFlag("--since", options.since);
    createdBefore = options.until === undefined ? undefined : timeFlag("--until", options.until);
  } catch (error) {
    return reportError(error, json);
  }
  return withStore(
    options.db,
    json,
    async (store) => {
      const page = await store.query.searchSessions({
        ...(options.agent ? { agentId: options.agent } : {}),
        ...(options.status ? { status: options.status.split(",") as SessionStatus[] } : {}),
        ...(options.provider ? { provider: options.provider } : {}),
        ...(options.tag && options.tag.length > 0 ? { tags: options.tag } : {}),
        ...(createdAfter ? { createdAfter } : {}),
        ...(createdBefore ? { createdBefore } : {}),
        ...(options.includeDeleted ? { includeDeleted: true } : {}),
        ...(options.order ? { orderBy: options.order } : {}),
        limit: options.limit,
        ...(options.cursor ? { cursor: options.cursor } : {}),
      });
      if (options.json) {
        printJson(page);
        return EXIT.ok;
      }
      const style = styleFor(process.stdout);
      if (page.items.length === 0) process.stdout.write(`${paint(style, "gray", "no sessions match")}\n`);
      for (const session of page.items) {
        const tags = session.tags.length > 0 ? `  [${session.tags.join(", ")}]` : "";
        process.stdout.write(
          `${session.id}  ${session.status.padEnd(9)}  ${session.agentId.padEnd(12)}  ${paint(style, "gray", session.createdAt)}${tags}\n`,
        );
      }
      if (page.nextCursor)
        process.stdout.write(`${paint(style, "gray", `next page: --cursor ${page.nextCursor}`)}\n`);
      return EXIT.ok;
    },
    READ_ONLY,
  );
}

import type { SessionStatus } from "../../core/session.js";
import type { SessionSearch } from "../../ports/query-api.js";
import { READ_ONLY, withStore } from "../open-store.js";
import { EXIT, paint, printJson, styleFor } from "../output.js";

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

/** `asm sessions search`: filters answered by the database, one page at a time. */
export function searchSessionsCommand(options: SearchOptions): Promise<number> {
  return withStore(
    options.db,
    options.json === true,
    async (store) => {
      const page = await store.query.searchSessions({
        ...(options.agent ? { agentId: options.agent } : {}),
        ...(options.status ? { status: options.status.split(",") as SessionStatus[] } : {}),
        ...(options.provider ? { provider: options.provider } : {}),
        ...(options.tag && options.tag.length > 0 ? { tags: options.tag } : {}),
        ...(options.since ? { createdAfter: options.since } : {}),
        ...(options.until ? { createdBefore: options.until } : {}),
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

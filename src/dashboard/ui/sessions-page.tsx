import { useEffect, useState } from "preact/hooks";
import type { AsmClient, ListSessionsQuery, SessionDetail } from "../../client/index.js";
import type { Session, SessionStatus } from "../../core/session.js";
import { ErrorNote } from "./error-note.js";
import { cost, time, tokens } from "./format.js";

const STATUSES: SessionStatus[] = ["active", "paused", "completed", "failed", "cancelled"];
const PAGE_SIZE = 25;

interface Filters {
  status: "" | SessionStatus;
  agentId: string;
  provider: string;
}

/** Sessions, newest activity first, with filters and cursor paging; each row's stats load on their own. */
export function SessionsPage({ client }: { client: AsmClient }) {
  const [filters, setFilters] = useState<Filters>({ status: "", agentId: "", provider: "" });
  // Cursors of the pages before this one: "Previous" pops one.
  const [cursors, setCursors] = useState<(string | undefined)[]>([undefined]);
  const [page, setPage] = useState<{ items: Session[]; nextCursor?: string }>();
  const [error, setError] = useState<unknown>();
  const cursor = cursors.at(-1);

  useEffect(() => {
    const query: ListSessionsQuery = { orderBy: "updated_desc", limit: PAGE_SIZE };
    if (filters.status) query.status = filters.status;
    if (filters.agentId) query.agentId = filters.agentId;
    if (filters.provider) query.provider = filters.provider;
    if (cursor) query.cursor = cursor;
    let current = true;
    client.listSessions(query).then(
      (result) => {
        if (!current) return;
        setPage(result);
        setError(undefined);
      },
      (reason: unknown) => current && setError(reason),
    );
    return () => {
      current = false;
    };
  }, [client, filters, cursor]);

  const onFilter = (event: Event) => {
    event.preventDefault();
    const form = new FormData(event.currentTarget as HTMLFormElement);
    setFilters({
      status: String(form.get("status") ?? "") as Filters["status"],
      agentId: String(form.get("agentId") ?? "").trim(),
      provider: String(form.get("provider") ?? "").trim(),
    });
    setCursors([undefined]);
  };

  return (
    <section aria-labelledby="sessions-title">
      <h1 id="sessions-title">Sessions</h1>
      <form class="filters" onSubmit={onFilter} aria-label="Filter sessions">
        <label>
          Status
          <select name="status" defaultValue={filters.status}>
            <option value="">any</option>
            {STATUSES.map((status) => (
              <option key={status} value={status}>
                {status}
              </option>
            ))}
          </select>
        </label>
        <label>
          Agent
          <input name="agentId" defaultValue={filters.agentId} />
        </label>
        <label>
          Provider
          <input name="provider" defaultValue={filters.provider} />
        </label>
        <button type="submit">Filter</button>
      </form>
      <ErrorNote error={error} />
      {page && page.items.length === 0 ? <p>No sessions.</p> : null}
      {page && page.items.length > 0 ? (
        <table class="sessions">
          <thead>
            <tr>
              <th scope="col">Session</th>
              <th scope="col">Agent</th>
              <th scope="col">Status</th>
              <th scope="col">Provider</th>
              <th scope="col">Tokens</th>
              <th scope="col">Cost</th>
              <th scope="col">Updated</th>
            </tr>
          </thead>
          <tbody>
            {page.items.map((session) => (
              <SessionRow key={session.id} client={client} session={session} />
            ))}
          </tbody>
        </table>
      ) : null}
      <nav class="pager" aria-label="Pages">
        <button type="button" disabled={cursors.length <= 1} onClick={() => setCursors(cursors.slice(0, -1))}>
          Previous
        </button>
        <button
          type="button"
          disabled={!page?.nextCursor}
          onClick={() => page?.nextCursor && setCursors([...cursors, page.nextCursor])}
        >
          Next
        </button>
      </nav>
    </section>
  );
}

function SessionRow({ client, session }: { client: AsmClient; session: Session }) {
  const [detail, setDetail] = useState<SessionDetail>();
  useEffect(() => {
    let current = true;
    client.getSession(session.id).then(
      (result) => current && setDetail(result),
      () => undefined,
    );
    return () => {
      current = false;
    };
  }, [client, session.id, session.updatedAt]);
  return (
    <tr data-session-id={session.id}>
      <th scope="row">
        <a href={`#/sessions/${session.id}`}>{session.id}</a>
      </th>
      <td>{session.agentId}</td>
      <td>
        <span class={`status status-${session.status}`}>{session.status}</span>
      </td>
      <td>{detail ? detail.stats.providers.join(", ") || "–" : "…"}</td>
      <td class="num">{detail ? tokens(detail.stats.tokenUsage) : "…"}</td>
      <td class="num">{detail ? cost(detail.stats.costUsd) : "…"}</td>
      <td>{time(session.updatedAt)}</td>
    </tr>
  );
}

import { render } from "preact";
import { useEffect, useMemo, useState } from "preact/hooks";
import { AsmApiError } from "../../client/index.js";
import { makeClient, readToken, saveToken } from "./api.js";
import { SessionPage } from "./session-page.js";
import { SessionsPage } from "./sessions-page.js";
import { UsagePage } from "./usage-page.js";

type Route = { page: "sessions" } | { page: "session"; sessionId: string } | { page: "usage" };

/** Hash routes (`#/`, `#/sessions/<id>`, `#/usage`): the server serves one page, whatever the view. */
function parseRoute(hash: string): Route {
  const session = /^#\/sessions\/([A-Za-z0-9_-]+)$/.exec(hash);
  if (session?.[1]) return { page: "session", sessionId: session[1] };
  if (hash === "#/usage") return { page: "usage" };
  return { page: "sessions" };
}

function useRoute(): Route {
  const [route, setRoute] = useState(() => parseRoute(location.hash));
  useEffect(() => {
    const onChange = () => setRoute(parseRoute(location.hash));
    addEventListener("hashchange", onChange);
    return () => removeEventListener("hashchange", onChange);
  }, []);
  return route;
}

function TokenForm({ onToken }: { onToken: (token: string) => void }) {
  const [value, setValue] = useState("");
  return (
    <form
      class="card"
      onSubmit={(event) => {
        event.preventDefault();
        if (value.trim()) onToken(value.trim());
      }}
    >
      <h2>Sign in</h2>
      <p>This server needs its API token (asm serve --token, or ASM_TOKEN).</p>
      <label>
        API token
        <input
          type="password"
          autocomplete="off"
          value={value}
          onInput={(e) => setValue(e.currentTarget.value)}
        />
      </label>
      <button type="submit">Use token</button>
    </form>
  );
}

function App() {
  const route = useRoute();
  const [token, setToken] = useState(readToken);
  const [unauthorized, setUnauthorized] = useState(false);
  const client = useMemo(() => makeClient(token), [token]);

  useEffect(() => {
    // One request up front tells whether the token works, before any page shows an error.
    client.listSessions({ limit: 1 }).then(
      () => setUnauthorized(false),
      (error: unknown) => setUnauthorized(error instanceof AsmApiError && error.status === 401),
    );
  }, [client]);

  return (
    <>
      <header class="top">
        <a class="brand" href="#/">
          asm
        </a>
        <nav aria-label="Main">
          <a href="#/" aria-current={route.page === "sessions" ? "page" : undefined}>
            Sessions
          </a>
          <a href="#/usage" aria-current={route.page === "usage" ? "page" : undefined}>
            Usage
          </a>
        </nav>
      </header>
      <main>
        {unauthorized ? (
          <TokenForm
            onToken={(value) => {
              saveToken(value);
              setToken(value);
            }}
          />
        ) : route.page === "session" ? (
          <SessionPage key={route.sessionId} client={client} sessionId={route.sessionId} />
        ) : route.page === "usage" ? (
          <UsagePage client={client} />
        ) : (
          <SessionsPage client={client} />
        )}
      </main>
    </>
  );
}

const root = document.getElementById("app");
if (root) {
  root.textContent = "";
  render(<App />, root);
}

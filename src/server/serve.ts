import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import { serve } from "@hono/node-server";
import { type ApiApp, type ApiAppOptions, createApiApp, type ShutdownOptions } from "./app.js";
import { checkListenSecurity } from "./auth.js";

export interface ApiServerOptions extends ApiAppOptions {
  /** Address to bind. Default `127.0.0.1`. */
  host?: string;
  /** Port; 0 picks a free one. Default 7411. */
  port?: number;
  /**
   * Serve without a token — allowed on a loopback address only. Default `false`: a token is
   * required, and a non-loopback address without one is refused whatever this says.
   */
  dev?: boolean;
}

export interface RunningApiServer {
  /** `http://host:port`, with the port actually bound. */
  readonly url: string;
  readonly port: number;
  readonly api: ApiApp;
  /** Graceful shutdown (`ApiApp.close`), then the listener and its connections. Idempotent. */
  close(options?: ShutdownOptions): Promise<void>;
}

/** How long requests still being answered at shutdown may take to finish (ms). */
const SHUTDOWN_GRACE_MS = 2000;

/** Checks the security settings, builds the API and listens. */
export async function startApiServer(options: ApiServerOptions): Promise<RunningApiServer> {
  const { host = "127.0.0.1", port = 7411, dev = false, ...appOptions } = options;
  checkListenSecurity({ host, dev, ...(appOptions.token !== undefined ? { token: appOptions.token } : {}) });
  const api = createApiApp(appOptions);
  const server = await new Promise<Server>((resolve, reject) => {
    const started = serve({ fetch: api.app.fetch, hostname: host, port }, () => resolve(started as Server));
    started.once("error", reject);
  });
  const bound = (server.address() as AddressInfo).port;
  const urlHost = host.includes(":") ? `[${host}]` : host;
  let closing: Promise<void> | undefined;
  return {
    url: `http://${urlHost}:${bound}`,
    port: bound,
    api,
    close: (shutdown) => {
      closing ??= (async () => {
        await api.close(shutdown);
        await new Promise<void>((resolve) => {
          // Streams ended with their final comment and runs drained: what is left is idle
          // keep-alive sockets and long-polls. Idle ones close now; a request still being
          // answered gets a grace period to finish writing, then its socket is closed too.
          const force = setTimeout(() => server.closeAllConnections(), SHUTDOWN_GRACE_MS);
          force.unref();
          server.close(() => {
            clearTimeout(force);
            resolve();
          });
          server.closeIdleConnections();
        });
      })();
      return closing;
    },
  };
}

/** Test support for the HTTP API: a real server on loopback over a SQLite file and a gated adapter. */
import { mkdtemp, rm } from "node:fs/promises";
import { createServer, type Server, Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { DurableSessionStore } from "../../ports/durable-store.js";
import { GatedAdapter } from "../../runtime/test-support/gated-adapter.js";
import { SessionManager } from "../../session-manager.js";
import { openDurableStore } from "../../stores/open-store.js";
import { type ApiServerOptions, type RunningApiServer, startApiServer } from "../serve.js";

export const TEST_TOKEN = "test-token-0123456789abcdef";

export interface Harness {
  server: RunningApiServer;
  store: DurableSessionStore;
  adapter: GatedAdapter;
  manager: SessionManager;
  dir: string;
  /** Shuts the server down, closes the store and removes the directory. */
  stop(): Promise<void>;
}

export async function startHarness(
  options: Partial<ApiServerOptions> & { deltas?: number; perTick?: number } = {},
): Promise<Harness> {
  const { deltas, perTick, ...serverOptions } = options;
  const dir = await mkdtemp(join(tmpdir(), "asm-server-"));
  const store = await openDurableStore(join(dir, "asm.db"), { autoMigrate: true });
  const adapter = new GatedAdapter({
    ...(deltas !== undefined ? { deltas } : {}),
    ...(perTick !== undefined ? { perTick } : {}),
  });
  const manager = new SessionManager({ store, adapter, cancelGraceMs: 2000 });
  const server = await startApiServer({ manager, port: 0, token: TEST_TOKEN, ...serverOptions });
  return {
    server,
    store,
    adapter,
    manager,
    dir,
    stop: async () => {
      await server.close({ drainTimeoutMs: 1 });
      await store.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/**
 * A TCP proxy in front of `port` that can cut every connection it carries: what a flaky network
 * or a restarting load balancer does to a long-lived stream.
 */
export async function startCuttingProxy(
  port: number,
): Promise<{ url: string; cutAll(): number; close(): Promise<void> }> {
  const pairs = new Set<[Socket, Socket]>();
  const proxy: Server = createServer((client) => {
    const upstream = new Socket();
    upstream.connect(port, "127.0.0.1");
    const pair: [Socket, Socket] = [client, upstream];
    pairs.add(pair);
    client.pipe(upstream);
    upstream.pipe(client);
    const drop = () => {
      pairs.delete(pair);
      client.destroy();
      upstream.destroy();
    };
    client.on("error", drop).on("close", drop);
    upstream.on("error", drop).on("close", drop);
  });
  await new Promise<void>((resolve) => proxy.listen(0, "127.0.0.1", resolve));
  const address = proxy.address() as { port: number };
  return {
    url: `http://127.0.0.1:${address.port}`,
    cutAll: () => {
      const count = pairs.size;
      for (const [client, upstream] of [...pairs]) {
        client.destroy();
        upstream.destroy();
      }
      pairs.clear();
      return count;
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const [client, upstream] of pairs) {
          client.destroy();
          upstream.destroy();
        }
        proxy.close(() => resolve());
      }),
  };
}

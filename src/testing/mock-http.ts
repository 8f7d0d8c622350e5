import type { IncomingMessage, Server } from "node:http";
import type { AddressInfo, Socket } from "node:net";

/* The HTTP plumbing the loopback model mocks (mock-*-api.ts) share. */

/** The request's body as UTF-8 text. */
export function readBody(request: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    request.on("data", (chunk: Buffer) => chunks.push(chunk));
    request.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    request.on("error", reject);
  });
}

/** The parsed JSON, or undefined for an empty or malformed body (the mock records what came). */
export function parseJson(text: string): unknown {
  try {
    return text === "" ? undefined : JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** Listens on an ephemeral loopback port; resolves `http://127.0.0.1:<port>`. */
export function listenOnLoopback(server: Server): Promise<string> {
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      server.off("error", reject);
      const { port } = server.address() as AddressInfo;
      resolve(`http://127.0.0.1:${port}`);
    });
  });
}

/**
 * Keeps track of the server's open connections (each also given to `onConnection`) and returns
 * the function that closes it: stalled streams never end by themselves, so it drops every
 * connection, then stops listening.
 */
export function trackConnections(
  server: Server,
  onConnection?: (socket: Socket) => void,
): () => Promise<void> {
  const sockets = new Set<Socket>();
  server.on("connection", (socket) => {
    onConnection?.(socket);
    sockets.add(socket);
    socket.once("close", () => sockets.delete(socket));
  });
  return () => {
    for (const socket of sockets) socket.destroy();
    return new Promise((resolve) => server.close(() => resolve()));
  };
}

import type { NatsConnection } from "@nats-io/transport-node";
import { AsmError } from "../../core/errors.js";
import type { AsmEvent } from "../../core/events.js";
import {
  PUBSUB_SPECIFICATION,
  type PubSub,
  type PubSubHandler,
  type PubSubSubscription,
} from "../../ports/pubsub.js";
import { lazyImport, moduleNotFound } from "../../utils/lazy-import.js";
import {
  closedError,
  encodeEvent,
  messageOf,
  type PubSubErrorReporter,
  TopicHandlers,
  warnPubSubError,
} from "../handlers.js";
import { assertTopic } from "../topics.js";

type NatsTransport = typeof import("@nats-io/transport-node");

const loadNats: () => Promise<NatsTransport> = lazyImport(
  () => import("@nats-io/transport-node"),
  (cause) =>
    moduleNotFound(cause)
      ? new AsmError(
          "dependency_not_available",
          "the NATS pubsub needs the @nats-io/transport-node package",
          {
            cause,
            details: { dependency: "@nats-io/transport-node" },
            hint: "Install it next to agent-session-manager: npm install @nats-io/transport-node",
          },
        )
      : AsmError.from(cause),
);

export interface NatsPubSubOptions {
  /** Server(s), `host:port` or `nats://host:port`. Default `127.0.0.1:4222`. */
  servers?: string | string[];
  /** Longest the first connection may take (ms). Default 5000. */
  connectTimeoutMs?: number;
  /** Connection name shown by the server's monitoring. Default `agent-session-manager`. */
  connectionName?: string;
  /** Receives a handler's throw or an unreadable message. Default: a process warning. */
  onError?: PubSubErrorReporter;
}

/**
 * Connects a NATS PubSub (core NATS, no JetStream); rejects with `storage_connection_failed` when
 * no server answers within `connectTimeoutMs`, `dependency_not_available` without
 * `@nats-io/transport-node`.
 *
 * A topic becomes a subject with `.` for `:` — `asm.session.<id>`, `asm.session.<id>.run.<id>`,
 * `asm.session.<id>.type.<type>` — so `asm.session.<id>.>` or `asm.session.*.type.run_failed`
 * work as wildcards for other NATS clients. Ids are subject-safe by construction (`encodeTopicSegment`:
 * `.`, `*`, `>`, spaces become `%XX`). One connection publishes and subscribes. While the server
 * is away the client reconnects and buffers publishes (the client's reconnect buffer); what
 * subscribers miss meanwhile is in the log (join with it).
 */
export async function createNatsPubSub(options: NatsPubSubOptions = {}): Promise<NatsPubSub> {
  const nats = await loadNats();
  const servers = options.servers ?? "127.0.0.1:4222";
  let connection: NatsConnection;
  try {
    connection = await nats.connect({
      servers,
      timeout: options.connectTimeoutMs ?? 5000,
      name: options.connectionName ?? "agent-session-manager",
      maxReconnectAttempts: -1,
    });
  } catch (error) {
    throw new AsmError(
      "storage_connection_failed",
      `nats pubsub: cannot connect to ${String(servers)}: ${messageOf(error)}`,
      {
        cause: error,
        details: { adapter: "nats", operation: "connect", target: String(servers) },
      },
    );
  }
  return new NatsPubSub(connection, options);
}

export class NatsPubSub implements PubSub {
  readonly specificationVersion = PUBSUB_SPECIFICATION;
  readonly name = "nats";
  private readonly handlers: TopicHandlers;
  private readonly subscriptions = new Map<string, { unsubscribe(): void }>();
  private closed = false;

  /** @internal Use `createNatsPubSub`. */
  constructor(
    private readonly connection: NatsConnection,
    options: NatsPubSubOptions,
  ) {
    this.handlers = new TopicHandlers(this.name, options.onError ?? warnPubSubError);
  }

  async publish(topic: string, event: AsmEvent): Promise<void> {
    if (this.closed) throw closedError(this.name);
    assertTopic(topic);
    try {
      this.connection.publish(subjectOf(topic), encodeEvent(event));
    } catch (error) {
      throw this.connectionError(error, "publish");
    }
  }

  async subscribe(topic: string, handler: PubSubHandler): Promise<PubSubSubscription> {
    if (this.closed) throw closedError(this.name);
    assertTopic(topic);
    return this.handlers.subscribe(
      topic,
      handler,
      async () => {
        try {
          const subscription = this.connection.subscribe(subjectOf(topic), {
            callback: (error, message) => {
              if (!error) this.handlers.dispatch(topic, message.data);
            },
          });
          this.subscriptions.set(topic, subscription);
          // The server has the interest once it answered a PING sent after the SUB.
          await this.connection.flush();
        } catch (error) {
          throw this.connectionError(error, "subscribe");
        }
      },
      async () => {
        this.subscriptions.get(topic)?.unsubscribe();
        this.subscriptions.delete(topic);
        if (!this.closed && !this.connection.isClosed()) await this.connection.flush().catch(() => undefined);
      },
    );
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.handlers.clear();
    if (this.connection.isClosed()) return;
    // drain sends what is buffered, then closes; a server that is gone cannot be drained.
    await this.connection.drain().catch(() => this.connection.close());
  }

  private connectionError(error: unknown, operation: string): AsmError {
    if (AsmError.is(error)) return error;
    return new AsmError(
      "storage_connection_failed",
      `nats pubsub: ${operation} failed: ${messageOf(error)}`,
      {
        cause: error,
        details: { adapter: "nats", operation },
      },
    );
  }
}

/** A topic as a NATS subject: its segments are subject tokens already (see topics.ts). */
export function subjectOf(topic: string): string {
  return topic.replaceAll(":", ".");
}

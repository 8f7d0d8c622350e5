import type { Redis, RedisOptions } from "ioredis";
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

/** What this adapter takes from ioredis, loaded on first use (an optional peer). */
type IoRedis = { Redis: typeof Redis };

const loadIoRedis: () => Promise<IoRedis> = lazyImport(
  () => import("ioredis"),
  (cause) =>
    moduleNotFound(cause)
      ? new AsmError("dependency_not_available", "the Redis pubsub needs the ioredis package", {
          cause,
          details: { dependency: "ioredis" },
          hint: "Install it next to agent-session-manager: npm install ioredis",
        })
      : AsmError.from(cause),
);

export interface RedisPubSubOptions {
  /** `redis://[user:password@]host:port[/db]`. Default `redis://127.0.0.1:6379`. */
  url?: string;
  /** Longest a connection attempt may take (ms), at creation and on each reconnect. Default 5000. */
  connectTimeoutMs?: number;
  /** Receives a handler's throw or an unreadable message. Default: a process warning. */
  onError?: PubSubErrorReporter;
}

/**
 * Connects a Redis PubSub; rejects with `storage_connection_failed` when Redis cannot be reached
 * within `connectTimeoutMs`, `dependency_not_available` without ioredis.
 *
 * Topics are Redis channels, named as they are (`asm:session:<id>[:run:<id>|:type:<type>]`).
 * Publishing uses one connection with automatic pipelining (publishes made in one turn of the
 * event loop go out in one write, in order); subscribing opens a second connection on the first
 * `subscribe`, as Redis requires. While Redis is down, a publish fails at once
 * (`storage_connection_failed`) instead of queueing; both connections reconnect in the
 * background and subscriptions are renewed (messages sent meanwhile are missed: join with the log).
 */
export async function createRedisPubSub(options: RedisPubSubOptions = {}): Promise<RedisPubSub> {
  const ioredis = await loadIoRedis();
  const pubsub = new RedisPubSub(ioredis, options);
  await pubsub.connect();
  return pubsub;
}

export class RedisPubSub implements PubSub {
  readonly specificationVersion = PUBSUB_SPECIFICATION;
  readonly name = "redis";
  private readonly handlers: TopicHandlers;
  private readonly publisher: Redis;
  private subscriber: Promise<Redis> | undefined;
  private closed = false;
  private readonly url: string;

  /** @internal Use `createRedisPubSub`. */
  constructor(
    private readonly ioredis: IoRedis,
    private readonly options: RedisPubSubOptions,
  ) {
    this.url = options.url ?? "redis://127.0.0.1:6379";
    this.handlers = new TopicHandlers(this.name, options.onError ?? warnPubSubError);
    this.publisher = this.client({ enableAutoPipelining: true });
  }

  /** @internal */
  async connect(): Promise<void> {
    await this.open(this.publisher);
  }

  async publish(topic: string, event: AsmEvent): Promise<void> {
    if (this.closed) throw closedError(this.name);
    assertTopic(topic);
    try {
      await this.publisher.publish(topic, encodeEvent(event));
    } catch (error) {
      throw this.connectionError(error, "publish");
    }
  }

  async subscribe(topic: string, handler: PubSubHandler): Promise<PubSubSubscription> {
    if (this.closed) throw closedError(this.name);
    assertTopic(topic);
    const subscriber = await this.subscriberConnection();
    return this.handlers.subscribe(
      topic,
      handler,
      async () => {
        try {
          await subscriber.subscribe(topic);
        } catch (error) {
          throw this.connectionError(error, "subscribe");
        }
      },
      async () => {
        if (this.closed) return;
        await subscriber.unsubscribe(topic).catch(() => undefined); // a dropped connection drops it too
      },
    );
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.handlers.clear();
    const subscriber = await this.subscriber?.catch(() => undefined);
    await Promise.all([quit(this.publisher), subscriber ? quit(subscriber) : undefined]);
  }

  private subscriberConnection(): Promise<Redis> {
    if (!this.subscriber) {
      const client = this.client({});
      client.on("messageBuffer", (channel: Buffer, message: Buffer) =>
        this.handlers.dispatch(channel.toString("utf8"), message),
      );
      const opening = this.open(client).then(() => client);
      this.subscriber = opening;
      opening.catch(() => {
        if (this.subscriber === opening) this.subscriber = undefined;
      });
    }
    return this.subscriber;
  }

  private client(extra: Partial<RedisOptions>): Redis {
    const client = new this.ioredis.Redis(this.url, {
      lazyConnect: true,
      connectTimeout: this.options.connectTimeoutMs ?? 5000,
      // Fail commands while disconnected rather than queue them without bound: a publish must
      // never hang, and what is missed is in the log.
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      ...extra,
    });
    // ioredis reports connection errors as events (and logs unhandled ones); the commands that
    // fail because of them reject with their own error, which is what callers see.
    client.on("error", () => {});
    return client;
  }

  private async open(client: Redis): Promise<void> {
    try {
      await client.connect();
    } catch (error) {
      client.disconnect(); // stop the background reconnection a failed first attempt leaves running
      throw this.connectionError(error, "connect");
    }
  }

  private connectionError(error: unknown, operation: string): AsmError {
    if (AsmError.is(error)) return error;
    return new AsmError(
      "storage_connection_failed",
      `redis pubsub: ${operation} on ${redactUrl(this.url)} failed: ${messageOf(error)}`,
      { cause: error, details: { adapter: "redis", operation, target: redactUrl(this.url) } },
    );
  }
}

async function quit(client: Redis): Promise<void> {
  if (client.status === "end") return;
  try {
    await client.quit();
  } catch {
    client.disconnect();
  }
}

/** The URL without its password, for messages. */
function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = "***";
    return parsed.toString();
  } catch {
    return "redis";
  }
}

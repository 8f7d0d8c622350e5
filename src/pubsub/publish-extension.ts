import { AsmError } from "../core/errors.js";
import type { AsmEvent } from "../core/events.js";
import type { EventPublisher } from "../ports/pubsub.js";
import { RUN_EXTENSION_SPECIFICATION, type RunExtension } from "../ports/run-extension.js";
import { sessionTopic, type TopicOptions, type TopicScope, topicsForEvent } from "./topics.js";

export interface PublishExtensionOptions extends TopicOptions {
  /** Where events go: a `PubSub`, or any `{ publish(topic, event) }`. */
  pubsub: EventPublisher;
  /** The topics each event is published on. Default `["session", "run"]`. */
  scopes?: readonly TopicScope[];
  /**
   * Longest the end of a run waits for its publishes still in flight (ms), once before its
   * terminal event (to count failures) and once after, so that when `executeRun` resolves its
   * events have been handed to the broker. Default 2000.
   */
  closeTimeoutMs?: number;
}

/** Run metadata the extension adds when publishes failed. */
export interface PublishReport {
  /** Publishes of this run that failed before its terminal event (each event counts once per topic). */
  failedPublishes: number;
}

/**
 * Publishes every event of a run as it is stored — with its sequence, after the store's commit
 * (extensions' `onEvent` sees only stored events, in sequence order, the terminal one included) —
 * on the topics of `scopes`. Add it to a manager: `new SessionManager({ extensions: [publishExtension({ pubsub })] })`.
 *
 * A publish never holds the run up and its failure never fails the run: the first failure of a run
 * is written to the log once as a non-fatal `error_occurred` (`details.extension: "pubsub"`,
 * its code, topic and sequence), later ones are only counted, and the count lands in run
 * metadata as `pubsub.failedPublishes` (`PublishReport`; the terminal event's own publishes come
 * after the metadata is written and are not counted). Subscribers recover the missing events from the log
 * (`joinEventStream`). Events written outside runs (session_created, session_completed…) are
 * not published: the join reads them from the log when it sees the gap in sequences.
 */
export function publishExtension(options: PublishExtensionOptions): RunExtension {
  const scopes = options.scopes ?? ["session", "run"];
  const closeTimeoutMs = options.closeTimeoutMs ?? 2000;
  // Checks the prefix once, here, rather than on the first event of a run.
  sessionTopic("prefix-check", options);
  return {
    specificationVersion: RUN_EXTENSION_SPECIFICATION,
    name: "pubsub",
    start(context) {
      const inFlight = new Set<Promise<unknown>>();
      let failed = 0;
      const reportFirst = (error: AsmError, topic: string, event: AsmEvent): Promise<unknown> => {
        return context
          .append({
            type: "error_occurred",
            data: {
              errorCode: error.code,
              errorMessage: `publishing events failed: ${error.message}`,
              fatal: false,
              details: { extension: "pubsub", topic, sequence: event.sequence },
            },
          })
          .catch(() =>
            // The run has ended (the terminal event's publish failed): a warning is all that is left.
            process.emitWarning(
              `pubsub: publishing ${event.type} #${event.sequence} failed: ${error.message}`,
              {
                code: "ASM_PUBSUB_ERROR",
              },
            ),
          );
      };
      /** Waits, bounded, for the publishes in flight; see `closeTimeoutMs`. */
      const settle = async (): Promise<void> => {
        if (pending.length > 0) publishPending();
        if (inFlight.size === 0) return;
        let timer: NodeJS.Timeout | undefined;
        let timedOut = false;
        const deadline = new Promise<void>((resolve) => {
          timer = setTimeout(() => {
            timedOut = true;
            resolve();
          }, closeTimeoutMs);
        });
        // A settled publish may have started others (the report of a failure is an event too).
        while (inFlight.size > 0 && !timedOut) await Promise.race([Promise.all(inFlight), deadline]);
        clearTimeout(timer);
        if (timedOut) {
          process.emitWarning(
            `pubsub: ${inFlight.size} publishes of run ${context.run.id} still pending after ${closeTimeoutMs} ms`,
            { code: "ASM_PUBSUB_ERROR" },
          );
        }
      };
      const onFailure = (error: unknown, topic: string, event: AsmEvent): Promise<unknown> | undefined => {
        failed += 1;
        // Kept in flight until the report is stored, so `finish` counts its publishes too.
        if (failed === 1) return reportFirst(AsmError.from(error, "storage_connection_failed"), topic, event);
        return undefined;
      };
      let pending: AsmEvent[] = [];
      const publishPending = (): void => {
        const events = pending;
        pending = [];
        const publishes: Promise<unknown>[] = [];
        for (const event of events) {
          for (const topic of topicsForEvent(event, scopes, options)) {
            try {
              const published = options.pubsub.publish(topic, event);
              if (published)
                publishes.push(published.catch((error: unknown) => onFailure(error, topic, event)));
            } catch (error) {
              const reported = onFailure(error, topic, event);
              if (reported) publishes.push(reported);
            }
          }
        }
        if (publishes.length === 0) return;
        const group = Promise.all(publishes).finally(() => inFlight.delete(group));
        inFlight.add(group);
      };
      return {
        onEvent(event) {
          // Events of one committed batch arrive in one synchronous loop: they are published
          // together on the next microtask, with one settlement for the group, not one per publish.
          pending.push(event);
          if (pending.length === 1) queueMicrotask(publishPending);
        },
        async finish() {
          await settle();
          return failed > 0 ? { metadata: { pubsub: { failedPublishes: failed } } } : undefined;
        },
        close: settle,
      };
    },
  };
}

import type { AsmEvent, EventData, EventMetadata, EventType } from "../../core/events.js";

/** Builds stored events of one run for the pure policy code, numbered from 1. */
export function eventFactory(sessionId = "ses_test", runId = "run_test") {
  let sequence = 0;
  return <T extends EventType>(type: T, data: EventData<T>, metadata: EventMetadata = {}): AsmEvent => {
    sequence += 1;
    // A generic T cannot pick its member of the AsmEvent union; the caller's data is typed by T.
    return {
      id: `evt_test_${sequence}`,
      type,
      sessionId,
      runId,
      sequence,
      timestamp: new Date(0).toISOString(),
      data,
      metadata,
    } as AsmEvent;
  };
}

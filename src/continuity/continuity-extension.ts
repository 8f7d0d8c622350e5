import { z } from "zod";
import { AsmError } from "../core/errors.js";
import type { JsonObject } from "../core/session.js";
import type { ExecuteRequest } from "../ports/provider-adapter.js";
import { RUN_EXTENSION_SPECIFICATION, type RunExtension } from "../ports/run-extension.js";
import type { SessionStore } from "../ports/session-store.js";
import { formatReplayBlock, replayTokenCeiling, withReplay } from "./replay-format.js";
import type { Transcript, TranscriptOptions } from "./transcript.js";
import { SessionTranscript } from "./transcript-store.js";

/** How a run continues the session's conversation. */
export type ContinuationMode = "native" | "replay" | "auto";

/** Limits of a replayed transcript (`executeRun({ continuationOptions })`). */
export interface ContinuationOptions {
  /** Default 200. */
  maxMessages?: number;
  /** Default: no character limit (the token limit applies). */
  maxChars?: number;
  /** Default 8,000; lowered to the provider's `REPLAY_TOKEN_CEILINGS` entry. */
  maxTokensApprox?: number;
}

/** What a run's continuation did: `result.continuity` and `run.metadata.continuity`. */
export interface ContinuityRecord {
  /** The mode asked for. */
  requested: ContinuationMode;
  /** The mode used (`auto` resolved); `none` when there was nothing to carry (a first run). */
  mode: "native" | "replay" | "none";
  /** The provider the decision was made for (the adapter executing the run). */
  provider: string;
  /** Native: the provider session or thread resumed. */
  providerSessionId?: string;
  /** Replay: the messages and estimated tokens carried, those left out, and the runs they came from. */
  messages?: number;
  approxTokens?: number;
  chars?: number;
  droppedMessages?: number;
  fromRuns?: string[];
}

declare module "../ports/run-extension.js" {
  interface RunExtensionOptions {
    /**
     * Continue the session's conversation in this run: `"native"` resumes the provider's own
     * session or thread recorded by an earlier run of this session on the same provider
     * (`invalid_operation` when there is none, `capability_not_supported` for a provider that
     * cannot resume); `"replay"` puts the session's transcript before the request (see
     * `formatReplayBlock`); `"auto"` is native when the same provider has a resume point, else
     * replay. Default `false`: the run starts a fresh provider session, as before this option.
     */
    continuation?: ContinuationMode | false;
    /** Limits of a replayed transcript. Default `{ maxMessages: 200, maxTokensApprox: 8000 }`. */
    continuationOptions?: ContinuationOptions;
  }
  interface RunResultExtensions {
    /** Present when the run asked for `continuation`: what was carried, and how. */
    continuity: ContinuityRecord;
  }
}

/** The per-run option each resumable provider takes the native id in (its `providerOptions` namespace). */
export const NATIVE_RESUME_OPTIONS: Readonly<Record<string, string>> = Object.freeze({
  claude: "resumeSessionId",
  codex: "resumeThreadId",
  amp: "resumeThreadId",
  gemini: "resumeSessionId",
  acp: "resumeSessionId",
});

export const DEFAULT_CONTINUATION_OPTIONS = Object.freeze({ maxMessages: 200, maxTokensApprox: 8_000 });

export interface ContinuityExtensionOptions {
  /** Counts tokens for the replay limits. Default `approxTokens` (characters / 4, rounded up). */
  countTokens?: (text: string) => number;
  /**
   * Sessions whose folded transcript is kept in memory between runs, so the next run reads only
   * the events since (least recently used dropped first). Default 64.
   */
  cachedSessions?: number;
}

const count = z.number().int().positive();
const optionSchemas = {
  continuation: z.union([z.enum(["native", "replay", "auto"]), z.literal(false)]).optional(),
  continuationOptions: z
    .strictObject({
      maxMessages: count.optional(),
      maxChars: count.optional(),
      maxTokensApprox: count.optional(),
    })
    .optional(),
};

/**
 * `executeRun({ continuation, continuationOptions })`: native resume, transcript replay or
 * `auto` (see `RunExtensionOptions.continuation`). Native sets the provider's own resume option
 * (`NATIVE_RESUME_OPTIONS`) in its `providerOptions` namespace from the resume point the manager
 * derived from the stored runs, unless the caller set it; replay folds the session's log before
 * this run (`SessionTranscript`, incrementally from the last run's cursor), cuts it to the
 * limits and puts it before the request (`withReplay`). The run records what it did in
 * `run.metadata.continuity` and `result.continuity`.
 *
 * Behind a `ProviderRouter` the extension sees the router, not the provider it will pick: `auto`
 * replays, and `native` is `capability_not_supported`.
 */
export function continuityExtension(options: ContinuityExtensionOptions = {}): RunExtension {
  const cache = new TranscriptCache(options.cachedSessions ?? 64);
  return {
    specificationVersion: RUN_EXTENSION_SPECIFICATION,
    name: "continuity",
    optionSchemas,
    start: async ({ session, provider, options: runOptions, store }) => {
      const requested = runOptions.continuation as ContinuationMode | false | undefined;
      if (requested === undefined || requested === false) return undefined;
      const limits = continuationLimits(
        runOptions.continuationOptions as ContinuationOptions | undefined,
        provider.name,
        options.countTokens,
      );
      const resumeOption = NATIVE_RESUME_OPTIONS[provider.name];
      if (requested === "native" && resumeOption === undefined) {
        throw new AsmError(
          "capability_not_supported",
          `the ${provider.name} provider cannot resume a session natively`,
          {
            details: { provider: provider.name, continuation: requested },
            hint: 'use continuation: "replay" (or "auto") to carry the conversation as a transcript',
          },
        );
      }
      // Built now, before this run's own messages are stored, so the transcript is what came before.
      const transcript =
        requested === "native" ? undefined : await cache.get(store, session.id).update(limits);
      let record: ContinuityRecord | undefined;
      return {
        transformRequest: (request) => {
          const decided = decide(request, requested, provider.name, resumeOption, transcript);
          record = decided.record;
          return decided.request;
        },
        finish: () => {
          const continuity = record ?? { requested, mode: "none", provider: provider.name };
          return { metadata: { continuity: { ...continuity } as JsonObject }, result: { continuity } };
        },
      };
    },
  };
}

function continuationLimits(
  given: ContinuationOptions | undefined,
  provider: string,
  countTokens: ((text: string) => number) | undefined,
): TranscriptOptions {
  const maxTokensApprox = Math.min(
    given?.maxTokensApprox ?? DEFAULT_CONTINUATION_OPTIONS.maxTokensApprox,
    replayTokenCeiling(provider),
  );
  return {
    maxMessages: given?.maxMessages ?? DEFAULT_CONTINUATION_OPTIONS.maxMessages,
    maxTokensApprox,
    ...(given?.maxChars !== undefined ? { maxChars: given.maxChars } : {}),
    ...(countTokens ? { countTokens } : {}),
  };
}

function decide(
  request: ExecuteRequest,
  requested: ContinuationMode,
  provider: string,
  resumeOption: string | undefined,
  transcript: Transcript | undefined,
): { request: ExecuteRequest; record: ContinuityRecord } {
  const own = request.providerOptions[provider] ?? {};
  const explicit = resumeOption !== undefined ? own[resumeOption] : undefined;
  const point = request.resumePoints?.[provider];
  const nativeId = typeof explicit === "string" ? explicit : point?.providerSessionId;
  if (requested === "native" || (requested === "auto" && resumeOption !== undefined && nativeId)) {
    if (resumeOption === undefined || nativeId === undefined) {
      throw new AsmError(
        "invalid_operation",
        `no ${provider} session to resume: no earlier run of this session on ${provider} recorded one`,
        {
          details: { provider, continuation: requested, sessionId: request.session.id },
          hint: 'use continuation: "auto" to replay the transcript when there is nothing to resume',
        },
      );
    }
    return {
      request: {
        ...request,
        providerOptions: { ...request.providerOptions, [provider]: { ...own, [resumeOption]: nativeId } },
      },
      record: { requested, mode: "native", provider, providerSessionId: nativeId },
    };
  }
  if (transcript === undefined || transcript.messages.length === 0) {
    return { request, record: { requested, mode: "none", provider } };
  }
  if (request.run.input.command !== undefined) {
    if (requested === "auto") return { request, record: { requested, mode: "none", provider } };
    throw new AsmError("capability_not_supported", "a command run cannot take a replayed transcript", {
      details: { provider, continuation: requested },
    });
  }
  return {
    request: {
      ...request,
      run: { ...request.run, input: withReplay(request.run.input, formatReplayBlock(transcript)) },
    },
    record: {
      requested,
      mode: "replay",
      provider,
      messages: transcript.messages.length,
      approxTokens: transcript.approxTokens,
      chars: transcript.chars,
      droppedMessages: transcript.droppedMessages,
      fromRuns: transcript.runs.map((run) => run.runId),
    },
  };
}

/** Folded transcripts of recent sessions, per store, least recently used dropped first. */
class TranscriptCache {
  readonly #byStore = new WeakMap<SessionStore, Map<string, SessionTranscript>>();

  constructor(private readonly capacity: number) {}

  get(store: SessionStore, sessionId: string): SessionTranscript {
    let sessions = this.#byStore.get(store);
    if (!sessions) {
      sessions = new Map();
      this.#byStore.set(store, sessions);
    }
    const found = sessions.get(sessionId) ?? new SessionTranscript(store, sessionId);
    sessions.delete(sessionId);
    sessions.set(sessionId, found);
    for (const oldest of sessions.keys()) {
      if (sessions.size <= this.capacity) break;
      sessions.delete(oldest);
    }
    return found;
  }
}

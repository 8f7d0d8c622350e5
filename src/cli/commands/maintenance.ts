import { AsmError } from "../../core/errors.js";
import { type EventType, isEventType } from "../../core/events.js";
import { SESSION_STATUSES, type SessionStatus } from "../../core/session.js";
import type { RetentionPolicy } from "../../ports/maintenance.js";
import { READ_ONLY, withStore } from "../open-store.js";
import { EXIT, paint, printJson, reportError, styleFor } from "../output.js";

export interface MaintenanceRunOptions {
  db?: string;
  maxAge?: string[];
  exemptTag?: string[];
  hardDeleteAfter?: number;
  prune?: string;
  keepLast?: number;
  json?: boolean;
}

/**
 * `asm maintenance run`: applies a retention policy given as flags and prints what it did. Flags
 * that would do nothing (`--max-age completed` without days, `--keep-last` without `--prune`)
 * are refused before the store is opened.
 */
export async function maintenanceRunCommand(options: MaintenanceRunOptions): Promise<number> {
  const json = options.json === true;
  let policy: RetentionPolicy;
  try {
    policy = retentionPolicy(options);
  } catch (error) {
    return reportError(error, json);
  }
  return withStore(options.db, json, async (store) => {
    const report = await store.maintenance.applyRetention(policy);
    if (options.json) printJson(report);
    else {
      process.stdout.write(
        `soft-deleted ${report.sessionsSoftDeleted} sessions, hard-deleted ${report.sessionsHardDeleted}, ` +
          `pruned ${report.eventsPruned} events in ${report.durationMs} ms\n`,
      );
    }
    return EXIT.ok;
  });
}

/** `--max-age completed=90 --max-age failed=30` → `{ completed: 90, failed: 30 }`, etc. */
function retentionPolicy(options: MaintenanceRunOptions): RetentionPolicy {
  const maxAgeDays: Partial<Record<SessionStatus, number>> = {};
  for (const entry of options.maxAge ?? []) {
    const match = /^([a-z]+)=(\d+)$/.exec(entry);
    const status = match?.[1];
    if (match === null || !SESSION_STATUSES.includes(status as SessionStatus)) {
      throw usageError(
        `--max-age ${entry}: expected <status>=<days>`,
        `e.g. --max-age completed=30; statuses: ${SESSION_STATUSES.join(", ")}`,
      );
    }
    maxAgeDays[status as SessionStatus] = Number(match[2]);
  }
  if (options.keepLast !== undefined && !options.prune) {
    throw usageError(
      "--keep-last does nothing without --prune",
      "add --prune <types>, e.g. --prune message_streamed",
    );
  }
  const unknownTypes = (options.prune?.split(",") ?? []).filter((type) => !isEventType(type));
  if (unknownTypes.length > 0) {
    throw usageError(
      `--prune: unknown event type ${unknownTypes.join(", ")}`,
      "e.g. --prune message_streamed,token_usage_updated",
    );
  }
  return {
    ...(Object.keys(maxAgeDays).length > 0 ? { maxAgeDays } : {}),
    ...(options.exemptTag ? { exemptTags: options.exemptTag } : {}),
    ...(options.hardDeleteAfter !== undefined ? { hardDeleteAfterDays: options.hardDeleteAfter } : {}),
    ...(options.prune
      ? { pruneEvents: { types: options.prune.split(",") as EventType[], keepLast: options.keepLast ?? 0 } }
      : {}),
  };
}

function usageError(message: string, hint: string): AsmError {
  return new AsmError("validation_error", message, { hint });
}

export interface HealthOptions {
  db?: string;
  stuckAfterMs?: number;
  json?: boolean;
}

/** `asm maintenance health`: prints the problems found; exits 1 when there are any. */
export function healthCommand(options: HealthOptions): Promise<number> {
  return withStore(
    options.db,
    options.json === true,
    async (store) => {
      const report = await store.maintenance.healthCheck(
        options.stuckAfterMs !== undefined ? { stuckAfterMs: options.stuckAfterMs } : {},
      );
      if (options.json) printJson(report);
      else {
        const style = styleFor(process.stdout);
        if (report.ok) process.stdout.write(`${paint(style, "green", "✓")} healthy\n`);
        for (const issue of report.issues) {
          process.stdout.write(`${paint(style, "red", "✗")} ${issue.kind}: ${issue.message}\n`);
        }
      }
      return report.ok ? EXIT.ok : EXIT.failed;
    },
    READ_ONLY,
  );
}

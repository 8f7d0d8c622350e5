import type { EventType } from "../../core/events.js";
import type { SessionStatus } from "../../core/session.js";
import type { RetentionPolicy } from "../../ports/maintenance.js";
import { READ_ONLY, withStore } from "../open-store.js";
import { EXIT, paint, printJson, styleFor } from "../output.js";

export interface MaintenanceRunOptions {
  db?: string;
  maxAge?: string[];
  exemptTag?: string[];
  hardDeleteAfter?: number;
  prune?: string;
  keepLast?: number;
  json?: boolean;
}

/** `asm maintenance run`: applies a retention policy given as flags and prints what it did. */
export function maintenanceRunCommand(options: MaintenanceRunOptions): Promise<number> {
  return withStore(options.db, options.json === true, async (store) => {
    const report = await store.maintenance.applyRetention(retentionPolicy(options));
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
    const [status, days] = entry.split("=");
    if (status && days) maxAgeDays[status as SessionStatus] = Number(days);
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

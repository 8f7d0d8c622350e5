// The OpenTelemetry extension is the `agent-session-manager/otel` entry: its types come from an optional peer.
export {
  type RunEndInfo,
  type RunErrorInfo,
  type RunStartInfo,
  type RunTelemetryInfo,
  type RunUsageInfo,
  type TelemetryHooks,
  type TelemetryHooksOptions,
  telemetryHooks,
} from "./hooks.js";
export type { RunEndStatus } from "./run-end.js";

import { describe, it } from "vitest";
import { defineAdapterConformance } from "../../testing/adapter-conformance.js";
import { ShellAdapter } from "./index.js";

const node = process.execPath;

// The shell adapter runs the shared adapter suite with commands standing in for the scenarios.
defineAdapterConformance(
  {
    name: "ShellAdapter",
    failureCode: "command_failed",
    unsupported: {
      malformed_line: "the shell adapter does not parse its command's output",
      auth_failure: "a shell command has no provider credentials to reject",
      rate_limited: "a shell command has no provider API to be rate limited by",
    },
    async adapterFor(scenario, { tmpDir }) {
      const adapter = new ShellAdapter({ cwd: tmpDir, killGraceMs: 500 });
      switch (scenario) {
        case "text":
          return {
            adapter,
            input: { command: [node, "-e", "process.stdout.write('hello from the shell')"] },
            expectedText: "hello from the shell",
          };
        case "tool_call":
          return { adapter, input: { command: [node, "-e", "console.log('tool ran')"] } };
        case "failure":
          return { adapter, input: { command: [node, "-e", "console.error('boom'); process.exitCode = 3"] } };
        case "stall":
          return {
            adapter,
            // A child that would outlive a naive kill of the leader alone.
            input: { command: ["/bin/sh", "-c", "sleep 3600 & echo child=$!; wait"] },
            processIds(events) {
              const started = events.find((event) => event.type === "run_started");
              const pid = started?.type === "run_started" ? started.data.pid : undefined;
              const stdout = events
                .map((event) => (event.type === "message_streamed" ? event.data.delta : ""))
                .join("");
              const child = /child=(\d+)/.exec(stdout)?.[1];
              return typeof pid === "number" && child ? [pid, Number(child)] : undefined;
            },
          };
        default:
          throw new Error(`unsupported scenario ${scenario}`);
      }
    },
  },
  { describe, it, skip: it.skip },
);

import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { PassThrough, Writable } from "node:stream";
import { afterAll, describe, expect, it } from "vitest";
import type { AsmEvent } from "../core/events.js";
import type { EventPublisher } from "../ports/pubsub.js";
import { MemoryPubSub } from "../pubsub/memory/index.js";
import { sessionTopic } from "../pubsub/topics.js";
import { EventFeed } from "./event-feed.js";
import { render, type SinkFailure } from "./render.js";
import { CompactRenderer } from "./renderers/compact.js";
import { PassthroughRenderer } from "./renderers/passthrough.js";
import { StudioRenderer } from "./renderers/studio.js";
import { CallbackSink } from "./sinks/callback.js";
import { FileSink } from "./sinks/file.js";
import { compactEntry, JsonlSink } from "./sinks/jsonl.js";
import { PubSubSink } from "./sinks/pubsub.js";
import { TtySink } from "./sinks/tty.js";
import { cancelRun, textRun, toolRun } from "./test-support/recorded-runs.js";
import type { Sink } from "./types.js";

const dir = mkdtempSync(path.join(tmpdir(), "asm-rendering-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function collector(): { stream: Writable; text: () => string } {
  let text = "";
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      text += chunk.toString();
      done();
    },
  });
  return { stream, text: () => text };
}

/** An in-process publisher: what the PubSub port's in-process adapter will be. */
class InProcessPublisher implements EventPublisher {
  readonly messages: { topic: string; event: AsmEvent }[] = [];
  publish(topic: string, event: AsmEvent): void {
    this.messages.push({ topic, event });
  }
}

describe("TtySink", () => {
  it("writes the rendered text as it is, colours and cursor control included", async () => {
    const out = collector();
    await render(toolRun(), {
      renderer: new StudioRenderer({ tty: true, color: true, columns: 80, showSpinner: false }),
      sinks: [new TtySink({ stream: out.stream })],
    });
    expect(out.text()).toContain("\r\u001b[2K  \u001b[32m✓\u001b[0m Read src/a.ts (4 lines)\n");
  });

  it("waits for a full stream to drain", async () => {
    const slow = new PassThrough({ highWaterMark: 4 });
    const chunks: string[] = [];
    const done = render(textRun(), {
      renderer: new CompactRenderer({ color: false }),
      sinks: [new TtySink({ stream: slow })],
    });
    // Nothing is read until the pipeline is blocked on the stream; then all of it arrives, in order.
    for await (const chunk of slow) {
      chunks.push(String(chunk));
      if (chunks.join("").endsWith("11 events, 0 tools\n")) break;
    }
    await done;
    expect(chunks.join("")).toMatch(
      /^\?session_created .* r-:end \$0\.0012 \?session_completed\n11 events, 0 tools\n$/s,
    );
  });
});

describe("FileSink", () => {
  it("writes plain text to an owner-only file: no colour, a redrawn line kept as last drawn", async () => {
    const file = path.join(dir, "run.log");
    writeFileSync(file, "old contents\n", { mode: 0o644 });
    await render(toolRun(), {
      renderer: new StudioRenderer({ tty: true, columns: 80, toolOutput: "preview" }),
      sinks: [new FileSink({ path: file })],
    });
    expect(readFileSync(file, "utf8")).toBe(
      [
        "  ● run run_1 started · claude-sonnet-4-5-20250929",
        "",
        "  Let me look.",
        "",
        "  ✓ Read src/a.ts (4 lines)",
        "    │ line 2",
        "    │ line 3",
        "    │ line 4",
        "  ✓ Ran: npm test (exit 0, 22 chars, 3.5s)",
        "    │ ok 1",
        "    │ ok 2",
        "    │ all passed",
        "  ✓ run completed · end_turn · 4200 ms · 120 in / 45 out tokens · 2 tools",
        "",
      ].join("\n"),
    );
    expect(statSync(file).mode & 0o777).toBe(0o600);
  });

  it("writes to a stream it was given (after its header) and leaves it open", async () => {
    const out = collector();
    out.stream.write("# header\n");
    await render(cancelRun(), {
      renderer: new CompactRenderer(),
      sinks: [new FileSink({ stream: out.stream })],
    });
    expect(out.text()).toBe(
      "# header\nr+ gpt-5-codex >> Working on it\nt+Grep ! cancelled\n4 events, 1 tools\n",
    );
    expect(out.stream.writable).toBe(true);
  });

  it("keeps a line the run left unended", async () => {
    const out = collector();
    const sink = new FileSink({ stream: out.stream });
    await sink.write("\u001b[31mhalf");
    expect(out.text()).toBe("");
    await sink.flush();
    expect(out.text()).toBe("half");
  });
});

describe("JsonlSink", () => {
  it("full: each stored event on its line, as asm run --json prints it, owner-only", async () => {
    const file = path.join(dir, "full.jsonl");
    const events = toolRun();
    await render(events, { renderer: new PassthroughRenderer(), sinks: [new JsonlSink({ path: file })] });
    const lines = readFileSync(file, "utf8").trimEnd().split("\n");
    expect(lines.map((line) => JSON.parse(line))).toEqual(events);
    expect(statSync(file).mode & 0o777).toBe(0o600);
  });

  it("compact: the seed's abbreviated entries, timed by the event", async () => {
    const file = path.join(dir, "compact.jsonl");
    await render([...textRun(), ...toolRun().slice(2, 4)], {
      renderer: new PassthroughRenderer(),
      sinks: [new JsonlSink({ path: file, mode: "compact" })],
    });
    const entries = readFileSync(file, "utf8")
      .trimEnd()
      .split("\n")
      .map((line) => JSON.parse(line));
    expect(entries.map((entry) => entry.e)).toEqual([
      { t: "session_created" },
      { t: "session_started" },
      { t: "message_sent" },
      { t: "rs", m: "sonnet-4-5" },
      { t: "ms", l: 12 },
      { t: "ms", l: 21 },
      { t: "ms", l: 11 },
      { t: "mr" },
      { t: "tu", i: 120, o: 45, $: 0.00123 },
      { t: "rc", sr: "end" },
      { t: "session_completed" },
      { t: "ts", n: "Read" },
      { t: "tc", n: "Read", l: 28 },
    ]);
    expect(entries[0].t).toBe(Date.parse("2026-01-01T00:00:00.000Z"));
    const failed = compactEntry({
      ...textRun()[0],
      type: "run_failed",
      data: { errorCode: "x", errorMessage: "é".repeat(200) },
    } as AsmEvent);
    expect(failed.e).toEqual({ t: "rf", x: `${"é".repeat(119)}…` });
  });
});

describe("CallbackSink", () => {
  it("hands each event with its rendered text, and the text no event made", async () => {
    const seen: [string, string][] = [];
    const rest: string[] = [];
    await render(cancelRun(), {
      renderer: new CompactRenderer({ color: false }),
      sinks: [
        new CallbackSink({
          callback: (event, text) => void seen.push([event.type, text]),
          onText: (text) => void rest.push(text),
        }),
      ],
    });
    expect(seen).toEqual([
      ["run_started", "r+ gpt-5-codex"],
      ["message_streamed", " >> Working on it"],
      ["tool_call_started", "\nt+Grep"],
      ["run_cancelled", " ! cancelled"],
    ]);
    expect(rest).toEqual(["\n4 events, 1 tools\n"]);
  });
});

describe("PubSubSink", () => {
  it("publishes each event to its session's topic by default, or its run's, its type's, a fixed one, or several", async () => {
    const events = textRun();
    const topicsBy = async (sink: (publisher: InProcessPublisher) => Sink) => {
      const publisher = new InProcessPublisher();
      await render(events, { renderer: new PassthroughRenderer(), sinks: [sink(publisher)] });
      return publisher.messages.map((message) => message.topic);
    };
    const publisher = new InProcessPublisher();
    await render(events, { renderer: new PassthroughRenderer(), sinks: [new PubSubSink({ publisher })] });
    expect(publisher.messages.map((message) => message.event)).toEqual(events);
    expect(new Set(await topicsBy((publisher) => new PubSubSink({ publisher })))).toEqual(
      new Set(["asm:session:ses_1"]),
    );
    const byRun = await topicsBy(
      (publisher) => new PubSubSink({ publisher, scopes: ["run"], prefix: "app" }),
    );
    // Session events have no run: no run topic.
    expect(byRun).toEqual(events.filter((event) => event.runId).map(() => "app:session:ses_1:run:run_1"));
    const both2 = await topicsBy((publisher) => new PubSubSink({ publisher, scopes: ["session", "type"] }));
    expect(both2.slice(0, 2)).toEqual(["asm:session:ses_1", "asm:session:ses_1:type:session_created"]);
    expect((await topicsBy((publisher) => new PubSubSink({ publisher, scopes: ["type"] })))[3]).toBe(
      "asm:session:ses_1:type:run_started",
    );
    expect(new Set(await topicsBy((publisher) => new PubSubSink({ publisher, topic: "all" })))).toEqual(
      new Set(["all"]),
    );
    const both = await topicsBy(
      (publisher) =>
        new PubSubSink({
          publisher,
          topic: (event) => [sessionTopic(event.sessionId), `kind:${event.type}`],
        }),
    );
    expect(both.slice(0, 2)).toEqual(["asm:session:ses_1", "kind:session_created"]);
    expect(both).toHaveLength(events.length * 2);
  });
});

describe("PubSubSink on the in-process PubSub", () => {
  it("delivers every rendered event to a subscriber of the run's topic, in order", async () => {
    const pubsub = new MemoryPubSub();
    const received: number[] = [];
    const events = toolRun();
    let all: () => void = () => undefined;
    const delivered = new Promise<void>((resolve) => {
      all = resolve;
    });
    const subscription = await pubsub.subscribe("asm:session:ses_1:run:run_1", (event) => {
      received.push(event.sequence);
      if (received.length === events.length) all();
    });
    await render(events, {
      renderer: new PassthroughRenderer(),
      sinks: [new PubSubSink({ publisher: pubsub, scopes: ["run"] })],
    });
    // Delivery is asynchronous, as on a broker: wait for it (the test's timeout bounds the wait).
    await delivered;
    await subscription.unsubscribe();
    await pubsub.close();
    expect(received).toEqual(events.map((event) => event.sequence));
  });
});

describe("render", () => {
  it("renders events pushed from a callback through an EventFeed, in order, to its end", async () => {
    const feed = new EventFeed();
    const [first, ...rest] = cancelRun();
    if (first) feed.push(first);
    const out = collector();
    const done = render(feed, {
      renderer: new CompactRenderer({ color: false }),
      sinks: [new TtySink({ stream: out.stream })],
    });
    for (const event of rest) feed.push(event);
    feed.end();
    feed.push(first as AsmEvent);
    expect(await done).toEqual({ events: 4, failures: [] });
    expect(out.text()).toBe("r+ gpt-5-codex >> Working on it\nt+Grep ! cancelled\n4 events, 1 tools\n");
  });

  it("reports a failing sink once, with its error, drops it and keeps the others going", async () => {
    const failures: SinkFailure[] = [];
    const attempts: string[] = [];
    let closed = 0;
    const flaky: Sink = {
      name: "flaky",
      write: () => undefined,
      writeEvent: (event) => {
        attempts.push(event.type);
        if (event.type === "message_streamed") throw new Error("disk full");
      },
      close: () => {
        closed += 1;
      },
    };
    const good = collector();
    const report = await render(textRun(), {
      renderer: new CompactRenderer({ color: false }),
      sinks: [flaky, new TtySink({ stream: good.stream })],
      onSinkError: (failure) => failures.push(failure),
    });
    expect(failures).toHaveLength(1);
    expect(failures[0]).toMatchObject({ sink: "flaky", phase: "write" });
    expect(failures[0]?.error.code).toBe("internal_error");
    expect(failures[0]?.error.message).toBe("disk full");
    expect(attempts).toEqual([
      "session_created",
      "session_started",
      "message_sent",
      "run_started",
      "message_streamed",
    ]);
    expect(closed).toBe(1);
    expect(report).toEqual({ events: 11, failures });
    expect(good.text()).toMatch(/r-:end \$0\.0012 \?session_completed\n11 events, 0 tools\n$/);
  });

  it("reports a sink that cannot open, and renders to the others", async () => {
    const failures: SinkFailure[] = [];
    const good = collector();
    const report = await render(cancelRun(), {
      renderer: new CompactRenderer({ color: false }),
      sinks: [
        new JsonlSink({ path: path.join(dir, "missing", "x.jsonl") }),
        new TtySink({ stream: good.stream }),
      ],
      onSinkError: (failure) => failures.push(failure),
    });
    expect(report.failures).toEqual(failures);
    expect(failures.map((failure) => [failure.phase, failure.sink])).toEqual([
      ["init", `jsonl ${path.join(dir, "missing", "x.jsonl")}`],
    ]);
    expect(failures[0]?.error.message).toContain("ENOENT");
    expect(good.text()).toBe("r+ gpt-5-codex >> Working on it\nt+Grep ! cancelled\n4 events, 1 tools\n");
  });

  it("finishes, flushes and closes the sinks when the events fail, then rethrows", async () => {
    const calls: string[] = [];
    async function* broken(): AsyncGenerator<AsmEvent> {
      yield* cancelRun().slice(0, 2);
      throw new Error("stream lost");
    }
    const sink: Sink = {
      name: "log",
      init: () => void calls.push("init"),
      write: (text) => void calls.push(`write ${JSON.stringify(text)}`),
      writeEvent: (event) => void calls.push(`event ${event.sequence}`),
      flush: () => void calls.push("flush"),
      close: () => void calls.push("close"),
    };
    await expect(
      render(broken(), { renderer: new CompactRenderer({ color: false }), sinks: [sink] }),
    ).rejects.toThrow("stream lost");
    expect(calls).toEqual([
      "init",
      "event 1",
      "event 2",
      'write "\\n2 events, 0 tools\\n"',
      "flush",
      "close",
    ]);
  });

  it("writes the renderer's spinner frames to the sinks while it waits for events", async () => {
    const frames: string[] = [];
    let release: () => void = () => undefined;
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    const [started, completed] = toolRun().slice(2, 4) as [AsmEvent, AsmEvent];
    async function* slowTool(): AsyncGenerator<AsmEvent> {
      yield started;
      await held;
      yield completed;
    }
    const sink = new CallbackSink({
      callback: () => undefined,
      onText: (text) => {
        frames.push(text);
        if (frames.length === 3) release();
      },
    });
    await render(slowTool(), {
      renderer: new StudioRenderer({ tty: true, color: false, columns: 80 }),
      sinks: [sink],
    });
    expect(frames.slice(0, 3)).toEqual([
      "\r\u001b[2K  ◓ Reading src/a.ts",
      "\r\u001b[2K  ◑ Reading src/a.ts",
      "\r\u001b[2K  ◒ Reading src/a.ts",
    ]);
  });
});

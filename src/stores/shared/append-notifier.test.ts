import { getEventListeners } from "node:events";
import { describe, expect, it } from "vitest";
import { AppendNotifier, longPoll } from "./append-notifier.js";

const activeTimers = (): number =>
  process.getActiveResourcesInfo().filter((kind) => kind === "Timeout").length;

describe("AppendNotifier", () => {
  it("returns at once when a notification came after the version was read", async () => {
    const notifier = new AppendNotifier();
    const version = notifier.version();
    notifier.notify("ses_other");
    const before = activeTimers();
    await notifier.wait("ses_1", version, 60_000);
    expect(activeTimers()).toBe(before);
  });

  it("wakes waiters of the notified session only, and leaves no timer or listener behind", async () => {
    const notifier = new AppendNotifier();
    const controller = new AbortController();
    const before = activeTimers();
    let first = false;
    let second = false;
    const waits = [
      notifier.wait("ses_1", notifier.version(), 60_000, controller.signal).then(() => {
        first = true;
      }),
      notifier.wait("ses_2", notifier.version(), 60_000).then(() => {
        second = true;
      }),
    ];
    expect(activeTimers()).toBe(before + 2);
    notifier.notify("ses_1");
    await waits[0];
    expect([first, second]).toEqual([true, false]);
    expect(getEventListeners(controller.signal, "abort")).toHaveLength(0);
    notifier.close();
    await waits[1];
    expect(activeTimers()).toBe(before);
  });

  it("resolves on timeout and on abort", async () => {
    const notifier = new AppendNotifier();
    const started = performance.now();
    await notifier.wait("ses_1", notifier.version(), 30);
    expect(performance.now() - started).toBeGreaterThanOrEqual(25);
    const controller = new AbortController();
    const waiting = notifier.wait("ses_1", notifier.version(), 60_000, controller.signal);
    controller.abort();
    await waiting;
    await notifier.wait("ses_1", notifier.version(), 60_000, controller.signal);
  });

  it("shares notifications with its shares, while each closes on its own", async () => {
    const first = new AppendNotifier();
    const second = first.share();
    const woken: string[] = [];
    const waitOn = (notifier: AppendNotifier, name: string): Promise<void> =>
      notifier.wait("ses_1", notifier.version(), 60_000).then(() => {
        woken.push(name);
      });

    const pending = [waitOn(first, "first"), waitOn(second, "second")];
    first.notify("ses_1");
    await Promise.all(pending);
    expect(woken.sort()).toEqual(["first", "second"]);

    const survivor = waitOn(second, "second-again");
    first.close();
    await Promise.resolve();
    expect(woken).not.toContain("second-again");
    second.notifyAll();
    await survivor;
    expect(first.closed).toBe(true);
    expect(second.closed).toBe(false);
  });
});

describe("longPoll", () => {
  it("re-reads after each wake-up until the page is non-empty, holding the watcher meanwhile", async () => {
    const notifier = new AppendNotifier();
    const log: number[] = [];
    let reads = 0;
    let held = 0;
    const poll = longPoll({
      notifier,
      sessionId: "ses_1",
      waitTimeoutMs: 60_000,
      signal: undefined,
      read: () => {
        reads += 1;
        return [...log];
      },
      watcher: { retain: () => (held += 1), release: () => (held -= 1) },
    });
    expect(held).toBe(1);
    notifier.notify("ses_1");
    await new Promise((resolve) => setImmediate(resolve));
    log.push(7);
    notifier.notify("ses_1");
    expect(await poll).toEqual([7]);
    expect(reads).toBe(3);
    expect(held).toBe(0);
  });

  it("lets a failing read end the poll and still releases the watcher", async () => {
    let held = 0;
    const failing = longPoll({
      notifier: new AppendNotifier(),
      sessionId: "ses_1",
      waitTimeoutMs: 60_000,
      signal: undefined,
      read: () => {
        throw new Error("cursor past the end");
      },
      watcher: { retain: () => (held += 1), release: () => (held -= 1) },
    });
    await expect(failing).rejects.toThrow("cursor past the end");
    expect(held).toBe(0);
  });

  it("answers [] once the notifier closes, without reading again", async () => {
    const notifier = new AppendNotifier();
    let reads = 0;
    const poll = longPoll({
      notifier,
      sessionId: "ses_1",
      waitTimeoutMs: 60_000,
      signal: undefined,
      read: () => {
        reads += 1;
        return [];
      },
    });
    notifier.close();
    expect(await poll).toEqual([]);
    expect(reads).toBe(1);
  });
});

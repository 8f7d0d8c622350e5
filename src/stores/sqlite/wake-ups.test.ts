import { afterEach, describe, expect, it, vi } from "vitest";
import { attachNotifier, DataVersionWatcher, MAX_CHECK_DELAY_MS, MIN_CHECK_DELAY_MS } from "./wake-ups.js";

describe("DataVersionWatcher", () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it("checks only while retained, backing off from 5 ms to 200 ms and back after a change", () => {
    vi.useFakeTimers();
    let version = 1;
    let reads = 0;
    let changes = 0;
    const watcher = new DataVersionWatcher(
      () => {
        reads += 1;
        return version;
      },
      () => {
        changes += 1;
      },
    );
    vi.advanceTimersByTime(1000);
    expect(reads).toBe(0);

    watcher.retain();
    watcher.retain();
    expect(reads).toBe(1);
    const readsAt = (elapsedMs: number): number => {
      vi.advanceTimersByTime(elapsedMs);
      return reads;
    };
    // Checks after 5, 10, 20, 40, 80, 160, 200, 200 … ms.
    expect(readsAt(MIN_CHECK_DELAY_MS)).toBe(2);
    expect(readsAt(10)).toBe(3);
    expect(readsAt(20 + 40 + 80 + 160)).toBe(7);
    expect(readsAt(MAX_CHECK_DELAY_MS)).toBe(8);
    expect(readsAt(MAX_CHECK_DELAY_MS)).toBe(9);

    version = 2;
    expect(readsAt(MAX_CHECK_DELAY_MS)).toBe(10);
    expect(changes).toBe(1);
    expect(readsAt(MIN_CHECK_DELAY_MS)).toBe(11);
    expect(changes).toBe(1);

    watcher.release();
    expect(readsAt(1000)).toBeGreaterThan(11);
    watcher.release();
    const stoppedAt = reads;
    expect(readsAt(10_000)).toBe(stoppedAt);
  });

  it("treats a failing check as no change and keeps checking", () => {
    vi.useFakeTimers();
    let failing = false;
    let changes = 0;
    const watcher = new DataVersionWatcher(
      () => {
        if (failing) throw new Error("disk hiccup");
        return 1;
      },
      () => {
        changes += 1;
      },
    );
    watcher.retain();
    failing = true;
    vi.advanceTimersByTime(100);
    failing = false;
    vi.advanceTimersByTime(1000);
    expect(changes).toBe(0);
    watcher.release();
  });
});

describe("attachNotifier", () => {
  it("shares wake-ups between stores on one file and forgets the file when the last detaches", async () => {
    const first = attachNotifier("/tmp/one.db");
    const second = attachNotifier("/tmp/one.db");
    const elsewhere = attachNotifier("/tmp/other.db");
    const private1 = attachNotifier(undefined);

    const woken: string[] = [];
    const waits = [
      second.notifier.wait("ses_1", second.notifier.version(), 60_000).then(() => woken.push("same file")),
      elsewhere.notifier
        .wait("ses_1", elsewhere.notifier.version(), 60_000)
        .then(() => woken.push("other file")),
      private1.notifier
        .wait("ses_1", private1.notifier.version(), 60_000)
        .then(() => woken.push("in memory")),
    ];
    first.notifier.notify("ses_1");
    await waits[0];
    expect(woken).toEqual(["same file"]);

    for (const attached of [elsewhere, private1]) attached.notifier.close();
    await Promise.all(waits);
    for (const attached of [first, second, elsewhere, private1]) attached.detach();

    // A store opened after every other store closed gets a new channel, which the old one cannot move.
    const fresh = attachNotifier("/tmp/one.db");
    const version = fresh.notifier.version();
    first.notifier.notify("ses_1");
    expect(fresh.notifier.version()).toBe(version);
    second.notifier.notify("ses_1");
    expect(fresh.notifier.version()).toBe(version);
    fresh.detach();
  });
});

// batchDeltas (src/chat/delta-batcher.ts): how a streamed answer's pieces are gathered into events.
// Runs the batcher directly inside workerd, on vitest's fake clock: each test moves time itself.
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { batchDeltas } from "../src/chat/delta-batcher";

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

/** Lets the fake clock move on, running the timers and the sends that fall due. */
const passes = (ms: number) => vi.advanceTimersByTimeAsync(ms);

describe("batchDeltas", () => {
  it("sends the first piece at once and gathers the ones that follow until the window has passed", async () => {
    const sent: string[] = [];
    const batcher = batchDeltas(async (text) => void sent.push(text), 50);
    batcher.push("Balance ");
    await passes(0);
    expect(sent).toEqual(["Balance "]);
    batcher.push("comes ");
    await passes(20);
    batcher.push("from ");
    await passes(29);
    expect(sent).toEqual(["Balance "]);
    await passes(1);
    expect(sent).toEqual(["Balance ", "comes from "]);
  });

  it("sends what is gathered at flush, without waiting for the window", async () => {
    const sent: string[] = [];
    const batcher = batchDeltas(async (text) => void sent.push(text), 50);
    batcher.push("Balance ");
    batcher.push("comes ");
    batcher.push("from ");
    await batcher.flush();
    expect(sent).toEqual(["Balance ", "comes from "]);
  });

  it("sends a piece at once when the window since the last send has passed", async () => {
    const sent: string[] = [];
    const batcher = batchDeltas(async (text) => void sent.push(text), 30);
    batcher.push("a");
    batcher.push("b");
    await passes(80);
    expect(sent).toEqual(["a", "b"]);
    batcher.push("c");
    await passes(0);
    expect(sent).toEqual(["a", "b", "c"]);
    await batcher.flush();
    expect(sent).toEqual(["a", "b", "c"]);
  });

  it("keeps the order of sends even when a send is slow", async () => {
    const sent: string[] = [];
    const batcher = batchDeltas(async (text) => {
      if (text === "slow ") await new Promise((resolve) => setTimeout(resolve, 40));
      sent.push(text);
    }, 10);
    batcher.push("slow ");
    await passes(20);
    batcher.push("fast");
    const flushed = batcher.flush();
    await passes(20);
    await flushed;
    expect(sent).toEqual(["slow ", "fast"]);
  });

  it("ignores empty pieces and sends nothing when nothing was gathered", async () => {
    const sent: string[] = [];
    const batcher = batchDeltas(async (text) => void sent.push(text));
    batcher.push("");
    await batcher.flush();
    expect(sent).toEqual([]);
  });
});

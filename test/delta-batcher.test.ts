// batchDeltas (src/chat/delta-batcher.ts): how a streamed answer's pieces are gathered into events.
// Runs the batcher directly inside workerd, with its real timers.
import { describe, expect, it } from "vitest";
import { batchDeltas } from "../src/chat/delta-batcher";

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe("batchDeltas", () => {
  it("sends the first piece at once and gathers the ones that follow within the window", async () => {
    const sent: string[] = [];
    const batcher = batchDeltas(async (text) => void sent.push(text), 50);
    batcher.push("Balance ");
    batcher.push("comes ");
    batcher.push("from ");
    await sleep(0);
    expect(sent).toEqual(["Balance "]);
    await batcher.flush();
    expect(sent).toEqual(["Balance ", "comes from "]);
  });

  it("sends gathered text when the window has passed, without waiting for more", async () => {
    const sent: string[] = [];
    const batcher = batchDeltas(async (text) => void sent.push(text), 30);
    batcher.push("a");
    batcher.push("b");
    await sleep(80);
    expect(sent).toEqual(["a", "b"]);
    batcher.push("c");
    await sleep(0);
    expect(sent).toEqual(["a", "b", "c"]);
    await batcher.flush();
    expect(sent).toEqual(["a", "b", "c"]);
  });

  it("keeps the order of sends even when a send is slow", async () => {
    const sent: string[] = [];
    const batcher = batchDeltas(async (text) => {
      if (text === "slow ") await sleep(40);
      sent.push(text);
    }, 10);
    batcher.push("slow ");
    await sleep(20);
    batcher.push("fast");
    await batcher.flush();
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

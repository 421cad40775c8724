// `npm run dev -- --fake-model`: the test suite's fake OpenAI-compatible model and Qdrant
// (scripts/fake-upstream.mjs) as the local Worker's upstreams, so that a question gets a streamed
// answer, word by word at a readable pace, with a few passages of the book's kind as its sources.
// The answer is the same whatever the question: it shows the service, not a model.
import { spawn } from "node:child_process";
import path from "node:path";
import { createInterface } from "node:readline";
import { REPO_ROOT } from "./local-database.mjs";

/** The credential the Worker sends; the fake keeps its scenario under it. */
const KEY = "fake-model";
const COLLECTION = "humanoid-robotics-book";
const WORD_DELAY_MS = 90;

const passages = [
  {
    title: "Chapter 3: Balance and the zero moment point",
    url: "https://book.example/ch3#zmp",
    text:
      "The zero moment point (ZMP) is the point on the ground where the horizontal components of the moment " +
      "of the ground reaction force vanish. While it stays inside the support polygon, the feet do not tip.",
  },
  {
    title: "Chapter 4: Inverse kinematics of the legs",
    url: "https://book.example/ch4#ik",
    text:
      "Inverse kinematics finds the joint angles that place a foot at a desired position and orientation; " +
      "for a six-joint leg a closed-form solution exists when the hip axes intersect.",
  },
  {
    title: "Chapter 6: Actuators",
    url: "https://book.example/ch6",
    text:
      "Series elastic actuators put a spring between the motor and the load, trading bandwidth for " +
      "force control and tolerance of impacts at heel strike.",
  },
  {
    title: "Chapter 5: Walking pattern generation",
    url: "https://book.example/ch5",
    text:
      "A walking pattern generator plans the centre of mass so that the resulting ZMP follows a reference " +
      "trajectory through the footprints, for example with preview control of the cart-table model.",
  },
];

const answer =
  "(This is the local fake model: it gives this answer to every question.) A humanoid stays upright " +
  "while its zero moment point, the point where the ground reaction force has no tipping moment, stays " +
  "inside the support polygon of its feet [1]. A walking pattern generator plans the centre of mass so " +
  "that the ZMP follows the footprints [4], inverse kinematics turns each planned foot pose into joint " +
  "angles [2], and the actuators, often series elastic ones, track those angles while absorbing the " +
  "impact at heel strike [3].";

/**
 * Starts the fake on 127.0.0.1 (a free port) with the book's passages, and returns the settings
 * that point the Worker at it and a stop() that ends it. It also ends when this process does:
 * it stops when its stdin closes.
 *
 * @returns {Promise<{ url: string, vars: Record<string, string>, stop: () => Promise<void> }>}
 */
export async function startFakeModel() {
  const child = spawn(
    process.execPath,
    ["--experimental-strip-types", path.join(REPO_ROOT, "scripts", "fake-upstream.mjs")],
    {
      cwd: REPO_ROOT,
      stdio: ["pipe", "pipe", "inherit"],
    },
  );
  const exited = new Promise((resolve) => child.once("exit", resolve));
  const url = await new Promise((resolve, reject) => {
    const lines = createInterface({ input: /** @type {import('node:stream').Readable} */ (child.stdout) });
    lines.once("line", (line) => resolve(JSON.parse(line).url));
    child.once("error", reject);
    child.once("exit", (code) => reject(new Error(`the fake model exited (${code}) before it listened`)));
  });
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
    await exited;
  };
  try {
    const response = await fetch(`${url}/__fake/scenarios/${KEY}`, {
      method: "PUT",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({
        chat: { text: answer, chunkDelayMs: WORD_DELAY_MS },
        qdrant: {
          collection: COLLECTION,
          points: passages.map((payload, index) => ({ id: index + 1, score: 0.9 - index * 0.05, payload })),
        },
      }),
    });
    if (!response.ok) throw new Error(`the fake model refused its scenario (${response.status})`);
  } catch (error) {
    await stop();
    throw error;
  }
  return {
    url,
    // Every setting the answers read, so that none of .dev.vars's is mixed in.
    vars: {
      LLM_BASE_URL: `${url}/v1`,
      LLM_API_KEY: KEY,
      LLM_MODEL: "fake-model",
      EMBEDDING_MODEL: "fake-embedding",
      QDRANT_URL: `${url}/qdrant`,
      QDRANT_API_KEY: KEY,
      QDRANT_COLLECTION: COLLECTION,
      QDRANT_TITLE_KEY: "title",
      QDRANT_URL_KEY: "url",
      QDRANT_TEXT_KEY: "text",
      RAG_TOP_K: "4",
    },
    stop,
  };
}

// `npm run test:client-package`: proves that a front end needs nothing of this repository but the
// packed client. Builds dist/client/ (scripts/build-client.mjs), packs it with `npm pack`, installs
// the tarball into a scratch project in a temporary directory (its own node_modules; the
// repository's are not touched), then type-checks a front end's calls there, strictly and with the
// package's declarations checked too (skipLibCheck off; errors inside other packages' own
// declarations are theirs: the AI SDK's need @types/node), and imports the package in Node. The
// front end's file has lines that must NOT compile (// @ts-expect-error): a response typed `any`
// or a route that lost its types fails the check. Exits non-zero on any failure. .ci/run runs it.
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { buildClientPackage, PACKAGE_NAME } from "./build-client.mjs";
import { REPO_ROOT } from "./local-database.mjs";

const TSC = path.join(REPO_ROOT, "node_modules", "typescript", "bin", "tsc");
const EXPECTED_FILES = ["index.d.ts", "index.js", "package.json"];

// A front end's module: typed calls, and what the types must refuse.
const FRONT_END = `import {
  type ChatClient,
  type ChatStreamEvent,
  createChatClient,
  type HistoryPage,
  type Message,
  type Problem,
  readChatStream,
  type UiMessage,
} from "${PACKAGE_NAME}";

export const client: ChatClient = createChatClient("https://chat.example");

export async function lastSeq(sessionUuid: string): Promise<number | undefined> {
  const response = await client.api.sessions[":session_uuid"].messages.$get({
    param: { session_uuid: sessionUuid },
    query: {},
  });
  if (response.status === 200) {
    const page = await response.json();
    const typed: HistoryPage = page;
    const messages: Message[] = typed.messages;
    const sender: "user" | "bot" | undefined = messages[0]?.sender;
    // @ts-expect-error a message's seq is a number
    const seq: string | undefined = page.messages[0]?.seq;
    // @ts-expect-error the same through the named type
    const namedSeq: string | undefined = messages[0]?.seq;
    void [sender, seq, namedSeq];
    return messages.at(-1)?.seq;
  }
  const problem: Problem = await response.json();
  // @ts-expect-error a problem has no messages
  void problem.messages;
  return undefined;
}

export async function ask(question: string): Promise<string[]> {
  const response = await client.api.chat.$post({ json: { question, stream: true } });
  const pieces: string[] = [];
  for await (const event of readChatStream(response)) {
    const typed: ChatStreamEvent = event;
    if (typed.event === "delta") pieces.push(typed.data.text);
  }
  // @ts-expect-error the question is required
  await client.api.chat.$post({ json: {} });
  // @ts-expect-error the session is part of the path
  await client.api.sessions[":session_uuid"].messages.$get({ query: {} });
  return pieces;
}

// The AI SDK's message type, with this service's metadata.
export function sessionOf(message: UiMessage): string | undefined {
  // @ts-expect-error a UI message's role is one the AI SDK knows
  const role: UiMessage["role"] = "narrator";
  void role;
  return message.metadata?.session_uuid;
}
`;

const TSCONFIG = {
  compilerOptions: {
    target: "es2022",
    module: "esnext",
    moduleResolution: "bundler",
    lib: ["es2024", "dom", "dom.iterable"],
    types: [],
    strict: true,
    noUncheckedIndexedAccess: true,
    skipLibCheck: false,
    noEmit: true,
  },
  include: ["front-end.ts"],
};

// What the package's JavaScript does without a server: hc builds the URL of a route.
const SMOKE = `import { createChatClient, readChatStream } from "${PACKAGE_NAME}";
const client = createChatClient("https://chat.example");
const url = client.api.sessions[":session_uuid"].messages.$url({ param: { session_uuid: "abc" } });
if (url.href !== "https://chat.example/api/sessions/abc/messages") throw new Error("unexpected URL " + url.href);
if (typeof readChatStream !== "function") throw new Error("readChatStream is missing");
`;

/** @param {string} command @param {string[]} args @param {string} cwd */
function run(command, args, cwd) {
  return execFileSync(command, args, { cwd, encoding: "utf8", stdio: ["ignore", "pipe", "inherit"] });
}

/**
 * tsc in the scratch project. @param {string} cwd
 * @returns {string[]} its error lines (with the file they are in first), [] when it passed
 */
function typeCheck(cwd) {
  try {
    run(process.execPath, [TSC, "-p", "tsconfig.json"], cwd);
    return [];
  } catch (error) {
    const output = /** @type {{ stdout?: string }} */ (error).stdout ?? "";
    const lines = output.split("\n").filter((line) => /^\S.*\(\d+,\d+\): error/.test(line));
    if (lines.length === 0) throw error;
    return lines;
  }
}

const scratch = mkdtempSync(path.join(tmpdir(), "chat-history-client-package-"));
try {
  const packageDir = await buildClientPackage();

  const declarations = readFileSync(path.join(packageDir, "index.d.ts"), "utf8");
  const relative = /(?:from\s+|import\()["']\.{1,2}\//.exec(declarations);
  if (relative) throw new Error(`index.d.ts imports a relative path (server source?): ${relative[0]}`);

  /** @type {{ filename: string, files: { path: string }[] }[]} */
  const [packed] = JSON.parse(run("npm", ["pack", packageDir, "--pack-destination", scratch, "--json"], scratch));
  if (!packed) throw new Error("npm pack reported no tarball");
  const files = packed.files.map((file) => file.path).sort();
  if (JSON.stringify(files) !== JSON.stringify(EXPECTED_FILES)) {
    throw new Error(`the tarball holds ${files.join(", ")}; expected ${EXPECTED_FILES.join(", ")}`);
  }

  writeFileSync(
    path.join(scratch, "package.json"),
    JSON.stringify({ name: "scratch-front-end", private: true, type: "module" }),
  );
  run(
    "npm",
    ["install", `./${packed.filename}`, "--prefer-offline", "--no-audit", "--no-fund", "--ignore-scripts"],
    scratch,
  );

  writeFileSync(path.join(scratch, "front-end.ts"), FRONT_END);
  writeFileSync(path.join(scratch, "tsconfig.json"), JSON.stringify(TSCONFIG, null, 2));
  const ours = typeCheck(scratch).filter(
    (line) => line.startsWith("front-end.ts") || line.startsWith(`node_modules/${PACKAGE_NAME}/`),
  );
  if (ours.length > 0) {
    throw new Error(`the front end does not type-check against the package:\n${ours.join("\n")}`);
  }

  writeFileSync(path.join(scratch, "smoke.mjs"), SMOKE);
  run(process.execPath, ["smoke.mjs"], scratch);

  const kib = (Buffer.byteLength(declarations) / 1024).toFixed(0);
  console.log(`client package: ${packed.filename} installs alone and type-checks a front end (index.d.ts ${kib} KiB)`);
} catch (error) {
  console.error(`client package: ${error instanceof Error ? error.message : error}`);
  process.exitCode = 1;
} finally {
  rmSync(scratch, { recursive: true, force: true });
}

// `npm run bench:profile -- --kind KIND`: a CPU profile of the Worker under the load of one
// request kind of `npm run bench`, summed per function.
//
// Starts what that kind needs (bench-stack.mjs), warms it up, then connects to the Worker's
// inspector through wrangler dev's --inspector-port, samples with V8's profiler
// (Profiler.setSamplingInterval, default 100 µs) during the load, and prints the functions with
// the most self time and total time, located in the sources through the bundle's source map.
// The raw profile is saved as a .cpuprofile (default under .data/profiles/, outside git) that
// Chrome DevTools or VS Code can open.
import { existsSync } from "node:fs";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { SourceMap } from "node:module";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { BenchStack, FLOOR_CONFIG, InspectorSession, runOnStack, SERVICE_CONFIG, sleep } from "./bench-stack.mjs";
import { echoVars, KINDS, newContext, ragVars, runLoad } from "./bench-workload.mjs";
import { REPO_ROOT } from "./local-database.mjs";

const HELP = `npm run bench:profile -- --kind KIND [options]

  --kind KIND             one of ${KINDS.map((k) => k.id).join(", ")} (default history-10)
  --seconds N             length of the profiled load (default 5)
  --warmup-seconds N      load before profiling starts (default 2)
  --connections N         connections of the load (default 1)
  --interval N            sampling interval in microseconds (default 100)
  --top N                 rows of each table (default 15)
  --out FILE              where to save the .cpuprofile (default .data/profiles/KIND-DATE.cpuprofile)`;

const { values: options } = parseArgs({
  options: {
    kind: { type: "string", default: "history-10" },
    seconds: { type: "string", default: "5" },
    "warmup-seconds": { type: "string", default: "2" },
    connections: { type: "string", default: "1" },
    interval: { type: "string", default: "100" },
    top: { type: "string", default: "15" },
    out: { type: "string" },
    help: { type: "boolean", default: false },
  },
});
if (options.help) {
  console.log(HELP);
  process.exit(0);
}
const kind = KINDS.find((k) => k.id === options.kind);
const settings = {
  seconds: Number(options.seconds),
  warmupSeconds: Number(options["warmup-seconds"]),
  connections: Number(options.connections),
  interval: Number(options.interval),
  top: Number(options.top),
};
if (!kind || Object.values(settings).some((value) => !Number.isFinite(value) || value < 0 || value > 100_000)) {
  console.error(HELP);
  process.exit(2);
}
const outFile = path.resolve(
  options.out ??
    path.join(
      REPO_ROOT,
      ".data",
      "profiles",
      `${kind.id}-${new Date().toISOString().replace(/[:.]/g, "-")}.cpuprofile`,
    ),
);

const stack = new BenchStack();
const progress = (/** @type {string} */ line) => console.error(`bench:profile: ${line}`);

/**
 * @typedef {{ url: string, map?: SourceMap, mapDir?: string, modules?: { line: number, path: string }[] }} Script
 */

/**
 * The scripts the Worker has loaded (Debugger.scriptParsed). For wrangler's bundle: its source
 * map, so profile locations name source files, and the module each line comes from (esbuild
 * starts each module with a "// path" comment), for packages whose own source maps point to
 * sources they do not ship (drizzle-orm's point to ../src).
 *
 * @param {InspectorSession} session
 * @returns {Promise<Map<string, Script>>}
 */
async function loadScripts(session) {
  /** @type {{ scriptId: string, url: string, sourceMapURL?: string }[]} */
  const parsed = [];
  session.on("Debugger.scriptParsed", (params) => parsed.push(params));
  await session.send("Debugger.enable");
  await sleep(300);
  await session.send("Debugger.disable");
  const scripts = new Map();
  for (const { scriptId, url, sourceMapURL } of parsed) {
    /** @type {Script} */
    const script = { url };
    if (sourceMapURL && url.startsWith("file:")) {
      try {
        const mapFile = fileURLToPath(new URL(sourceMapURL, url));
        script.map = new SourceMap(JSON.parse(await readFile(mapFile, "utf8")));
        script.mapDir = path.dirname(mapFile);
        const lines = (await readFile(fileURLToPath(url), "utf8")).split("\n");
        script.modules = [];
        for (let line = 0; line < lines.length; line++) {
          const module = /^\/\/ ((?:node_modules|src|bench)\/\S+)$/.exec(lines[line] ?? "")?.[1];
          if (module) script.modules.push({ line, path: module });
        }
      } catch {}
    }
    scripts.set(scriptId, script);
  }
  return scripts;
}

/** @type {Map<string, boolean>} */
const existing = new Map();
function exists(/** @type {string} */ file) {
  let found = existing.get(file);
  if (found === undefined) {
    found = existsSync(file);
    existing.set(file, found);
  }
  return found;
}

/**
 * Where a profile node's function is: "src/app.ts:42", "node_modules/hono/dist/hono-base.js:10",
 * "node_modules/drizzle-orm/sql/sql.js (its map: src/sql/sql.ts:148)",
 * "node-internal:internal_inspect:2389", or "(native)".
 *
 * @param {{ functionName: string, scriptId: string, url: string, lineNumber: number, columnNumber: number }} frame
 * @param {Map<string, Script>} scripts
 */
function locate(frame, scripts) {
  if (frame.functionName.startsWith("(") && !frame.url) return "";
  if (!frame.url) return "(native)";
  const script = scripts.get(frame.scriptId);
  if (script?.map && frame.lineNumber >= 0) {
    const entry = script.map.findEntry(frame.lineNumber, Math.max(0, frame.columnNumber));
    const module = script.modules?.findLast((m) => m.line <= frame.lineNumber)?.path;
    if ("originalSource" in entry && entry.originalSource) {
      const source = entry.originalSource.startsWith("file:")
        ? fileURLToPath(entry.originalSource)
        : path.resolve(/** @type {string} */ (script.mapDir), entry.originalSource);
      const line = entry.originalLine + 1;
      if (exists(source)) return `${path.relative(REPO_ROOT, source)}:${line}`;
      if (module) return `${module} (its map: ${path.relative(path.join(REPO_ROOT, "node_modules"), source)}:${line})`;
    }
    if (module) return module;
  }
  const url = script?.url ?? frame.url;
  const shown = url.startsWith("file:") ? path.relative(REPO_ROOT, fileURLToPath(url)) : url;
  return `${shown}:${frame.lineNumber + 1}`;
}

/** Which part of the stack a location belongs to, for the summary by origin. @param {string} name @param {string} location */
function originOf(name, location) {
  if (!location) return name; // (garbage collector), (program), (idle)
  if (location.startsWith("native")) return "V8 builtins and workerd natives";
  const pkg = /(?:^|\/)node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(location)?.[1];
  if (pkg) return pkg;
  if (location.startsWith("src/")) return "src/ (the service)";
  if (location.startsWith("bench/")) return "bench/ (the floor)";
  if (/^(node-internal|node|workerd|cloudflare-internal|cloudflare):/.test(location)) return "workerd's JavaScript";
  if (location.startsWith(".wrangler/")) return "wrangler's bundle glue (esbuild helpers, middleware loader)";
  return location.split(":")[0] ?? location;
}

/**
 * Self and total samples per function (name + location); a function counts once per sample even
 * when it recurses. Samples are counted, not timed by the gaps between them: workerd's isolate is
 * sampled only while it runs, so a gap is mostly time spent waiting, not in the sample before it.
 *
 * @param {any} profile
 * @param {Map<string, Script>} scripts
 */
function aggregate(profile, scripts) {
  /** @type {Map<number, any>} */
  const nodes = new Map(profile.nodes.map((/** @type {any} */ node) => [node.id, node]));
  /** @type {Map<number, number>} */
  const parents = new Map();
  for (const node of profile.nodes) for (const child of node.children ?? []) parents.set(child, node.id);
  /** @type {Map<number, { key: string, name: string, location: string }>} */
  const described = new Map();
  /** @returns {{ key: string, name: string, location: string }} */
  const describe = (/** @type {number} */ id) => {
    let entry = described.get(id);
    if (!entry) {
      const frame = nodes.get(id).callFrame;
      const name = frame.functionName || "(anonymous)";
      let location = locate(frame, scripts);
      // A native function is told apart by its caller: console.log's native half in the access
      // log is another cost than a native called by postgres.js.
      if (location === "(native)") {
        const parent = parents.get(id);
        const caller = parent === undefined ? undefined : describe(parent);
        location =
          !caller || caller.name === "(root)"
            ? "native, called from the event loop"
            : `native, called by ${caller.name} ${caller.location.replace(/^native, called by .*$/, "(native)")}`;
      }
      entry = { key: `${name} ${location}`, name, location };
      described.set(id, entry);
    }
    return entry;
  };

  /** @type {Map<string, { name: string, location: string, self: number, total: number }>} */
  const functions = new Map();
  /** @type {Map<string, number>} */
  const origins = new Map();
  let busy = 0;
  for (const sample of profile.samples ?? []) {
    const leaf = describe(sample);
    if (leaf.name === "(idle)") continue;
    busy++;
    const origin = originOf(leaf.name, leaf.location);
    origins.set(origin, (origins.get(origin) ?? 0) + 1);
    const seen = new Set();
    for (let id = sample; id !== undefined; id = parents.get(id)) {
      const entry = describe(id);
      if (entry.name === "(root)" || seen.has(entry.key)) continue;
      seen.add(entry.key);
      let row = functions.get(entry.key);
      if (!row) {
        row = { name: entry.name, location: entry.location, self: 0, total: 0 };
        functions.set(entry.key, row);
      }
      row.total++;
      if (id === sample) row.self++;
    }
  }
  const deltas = [...(profile.timeDeltas ?? [])].sort((a, b) => a - b);
  const spacing = deltas[Math.floor(deltas.length / 2)] ?? 0;
  return { functions: [...functions.values()], origins, busy, spacing };
}

/** @param {string} text */
function cell(text) {
  return text.replace(/\|/g, "\\|");
}

async function main() {
  const target = /** @type {import("./bench-workload.mjs").Kind} */ (kind);
  progress("starting what the kind needs...");
  // The service needs its database to be ready (/health) even for a kind that does not read it.
  const needsDatabase = target.instance !== "floor" || target.usesDatabase;
  const databaseUrl = needsDatabase ? await stack.startDatabase().then(() => stack.startPool()) : undefined;
  const fakeUrl = target.instance === "rag" || target.usesModel ? await stack.startFakeUpstream() : undefined;
  const ctx = newContext(fakeUrl);
  // A floor that reads the database reads a session the service made (page-floor).
  if (target.instance === "floor" && databaseUrl) {
    const echo = await stack.startWrangler({
      name: "service (echo)",
      config: SERVICE_CONFIG,
      vars: echoVars,
      databaseUrl,
      readyPath: "/health",
    });
    ctx.echoTarget = echo.base;
  }
  const instance = await stack.startWrangler(
    target.instance === "floor"
      ? { name: "floor", config: FLOOR_CONFIG, databaseUrl }
      : {
          name: `service (${target.instance})`,
          config: SERVICE_CONFIG,
          vars: target.instance === "echo" ? echoVars : ragVars(/** @type {string} */ (fakeUrl)),
          databaseUrl,
          readyPath: "/health",
        },
  );
  await target.prepare?.(ctx, instance.base);
  if (databaseUrl) await stack.analyzeDatabase();
  const load = (/** @type {number} */ seconds) =>
    runLoad({
      target: instance.base,
      connections: settings.connections,
      seconds,
      maxRequests: Number.POSITIVE_INFINITY,
      request: () => target.request(ctx),
      expectStatus: target.status,
      verify: target.verify,
    });
  progress(`warming up ${target.id}...`);
  await load(settings.warmupSeconds);

  const session = await InspectorSession.connect(instance.inspectorPort);
  stack.beforeStop.push(async () => session.close());
  const scripts = await loadScripts(session);
  await session.send("Profiler.enable");
  await session.send("Profiler.setSamplingInterval", { interval: settings.interval });
  await session.send("Profiler.start");
  // workerd 1.20261117.1 crashes (SIGSEGV) if an inspector session goes away while its profiler
  // runs, so a profile is always stopped first, also on Ctrl-C and on failure.
  let profiling = true;
  stack.beforeStop.push(async () => {
    if (profiling) await session.send("Profiler.stop", {}, 5_000);
  });

  progress(`profiling ${target.id} for ${settings.seconds} s...`);
  const cpuBefore = instance.workerCpuMs();
  const run = await load(settings.seconds);
  await sleep(200);
  const cpuAfter = instance.workerCpuMs();
  const { profile } = await session.send("Profiler.stop", {}, 60_000);
  profiling = false;
  await session.send("Profiler.disable");
  session.close();
  await instance.assertNoCrash();

  await mkdir(path.dirname(outFile), { recursive: true });
  await writeFile(outFile, JSON.stringify(profile));

  const n = run.latencies.length;
  const { functions, origins, busy, spacing } = aggregate(profile, scripts);
  const perRequest = (/** @type {number} */ samples) => ((samples * spacing) / 1000 / n).toFixed(3);
  const percent = (/** @type {number} */ samples) => ((100 * samples) / busy).toFixed(1);
  const table = (/** @type {typeof functions} */ rows, /** @type {string} */ heading) => [
    heading,
    "",
    "| # | self % | total % | self ≈ms/request | total ≈ms/request | function | where |",
    "| --- | --- | --- | --- | --- | --- | --- |",
    ...rows
      .slice(0, settings.top)
      .map(
        (row, index) =>
          `| ${index + 1} | ${percent(row.self)} | ${percent(row.total)} | ${perRequest(row.self)} | ${perRequest(row.total)} | ` +
          `${cell(row.name)} | ${cell(row.location)} |`,
      ),
    "",
  ];
  const lines = [
    `### CPU profile: ${target.title}`,
    "",
    `${n} requests in ${(run.elapsedMs / 1000).toFixed(1)} s on ${settings.connections} connection(s); sampling ` +
      `interval ${settings.interval} µs asked, ${spacing} µs median between samples. ${busy} samples of the Worker's ` +
      `isolate: ≈${perRequest(busy)} ms/request (samples × median spacing). The workerd process used ` +
      `${((cpuAfter - cpuBefore) / n).toFixed(2)} ms/request of CPU meanwhile (/proc): it also runs wrangler's entry ` +
      `Worker and the native HTTP and socket work, and pays for the sampling. Percentages are of the samples. ` +
      `Profile: ${path.relative(process.cwd(), outFile)}`,
    "",
    ...table(
      [...functions].sort((a, b) => b.self - a.self),
      `Top ${settings.top} by self time:`,
    ),
    ...table(
      [...functions].sort((a, b) => b.total - a.total),
      `Top ${settings.top} by total time:`,
    ),
    "Self time by origin:",
    "",
    "| origin | ≈ms/request | % |",
    "| --- | --- | --- |",
    ...[...origins.entries()]
      .sort((a, b) => b[1] - a[1])
      .map(([origin, micros]) => `| ${cell(origin)} | ${perRequest(micros)} | ${percent(micros)} |`),
  ];
  console.log(lines.join("\n"));
}

await runOnStack("bench:profile", stack, main);

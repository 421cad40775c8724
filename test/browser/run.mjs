// `npm run test:browser [-- <name>...]`: the pages of the service in a real headless Chromium,
// offline. Runs every test/browser/*.browser.mjs (or those whose name contains an argument).
//
// It starts, on free 127.0.0.1 ports, a throw-away PostgreSQL 17 (migrated) and `wrangler dev` of
// the service (scripts/bench-stack.mjs), then Debian's /usr/bin/chromium through playwright-core.
// The browser reaches nothing but the origins the harness started: every other request is aborted
// and recorded, and a test fails if one of its pages tried another origin or logged an error to
// the console. Screenshots go to .artifacts/browser/. Everything started is stopped at the end,
// on failure and on Ctrl-C too.
//
// A test file exports `title` and a default `async (t) => {}`, where t is:
//   t.service()                  the service, started once for all tests: { base } (http://127.0.0.1:PORT)
//   t.open(url, options?)        a new page in a fresh browser context, watched as above, at url;
//                                options: javaScriptEnabled (default true), allowOrigins (more origins
//                                it may reach, e.g. a second server the test started),
//                                expectConsoleErrors (patterns of console errors the test causes on
//                                purpose, e.g. Chromium's line for a request the page sent and the
//                                service refused)
//   t.screenshot(page, name)     saves .artifacts/browser/<name>.png, returns its path
//   t.stack                      the BenchStack, to start more servers (stopped with the rest)
import { readdirSync } from "node:fs";
import fs from "node:fs/promises";
import { constants } from "node:os";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { chromium } from "playwright-core";
import { BenchStack, SERVICE_CONFIG } from "../../scripts/bench-stack.mjs";
import { REPO_ROOT } from "../../scripts/local-database.mjs";

const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
const ARTIFACTS = path.join(REPO_ROOT, ".artifacts", "browser");
const TEST_TIMEOUT_MS = 120_000;
const HERE = path.dirname(fileURLToPath(import.meta.url));

// Playwright gives every launch a fresh temporary profile (--user-data-dir) and deletes it after.
// Besides the background-traffic switches, every host but 127.0.0.1 resolves to nothing, so a
// request that escaped the interception below would still not leave the machine.
const CHROMIUM_ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
];

const stack = new BenchStack();
/** @type {import("playwright-core").Browser | undefined} */
let browser;
let interrupted = false;

for (const signal of /** @type {const} */ (["SIGINT", "SIGTERM", "SIGHUP"])) {
  process.on(signal, () => {
    if (interrupted) return;
    interrupted = true;
    console.error(`\n${signal}: stopping`);
    void shutdown()
      .catch((error) => console.error(`could not stop everything: ${error instanceof Error ? error.message : error}`))
      .finally(() => process.exit(128 + constants.signals[signal]));
  });
}
process.on("exit", () => stack.killAllNow());

async function shutdown() {
  await browser?.close().catch(() => {});
  // A database still starting cannot be stopped (its initdb would race the removal of its
  // folder); it starts or fails within a minute.
  await databaseStarting?.catch(() => {});
  await stack.stop();
}

/** @type {Promise<string> | undefined} */
let databaseStarting;
/** @type {Promise<{ base: string }> | undefined} */
let service;

function startService() {
  service ??= (async () => {
    databaseStarting = stack.startDatabase();
    const databaseUrl = await databaseStarting;
    if (interrupted) throw new Error("interrupted");
    const instance = await stack.startWrangler({
      name: "service",
      config: SERVICE_CONFIG,
      // Every request of the browser comes from one address.
      vars: { RATE_LIMITS: "off" },
      databaseUrl,
      readyPath: "/health",
    });
    return { base: instance.base };
  })();
  return service;
}

/**
 * What a test file's function is given (see the top of this file).
 *
 * @typedef {{
 *   service: () => Promise<{ base: string }>,
 *   open: (url: string, options?: OpenOptions) => Promise<import("playwright-core").Page>,
 *   screenshot: (page: import("playwright-core").Page, name: string) => Promise<string>,
 *   stack: BenchStack,
 * }} Harness
 * @typedef {{ javaScriptEnabled?: boolean, allowOrigins?: string[], expectConsoleErrors?: RegExp[] }} OpenOptions
 */

/**
 * Runs one test file's function with the harness; fails on foreign requests and console errors.
 *
 * @param {(t: Harness) => Promise<void>} run
 */
async function runTest(run) {
  /** @type {import("playwright-core").BrowserContext[]} */
  const contexts = [];
  /** @type {string[]} */
  const problems = [];

  /** @type {Harness} */
  const t = {
    service: startService,
    stack,
    async open(url, { javaScriptEnabled = true, allowOrigins = [], expectConsoleErrors = [] } = {}) {
      if (!browser) throw new Error("the browser is not running");
      const allowed = new Set([new URL(url).origin, ...allowOrigins.map((origin) => new URL(origin).origin)]);
      const isAllowed = (/** @type {string} */ address) => {
        const { protocol, origin } = new URL(address);
        return protocol === "data:" || protocol === "blob:" || allowed.has(origin);
      };
      // Service workers would answer requests the interception below never sees.
      const context = await browser.newContext({ javaScriptEnabled, serviceWorkers: "block" });
      contexts.push(context);
      await context.route("**/*", (route) => {
        const address = route.request().url();
        if (isAllowed(address)) return route.fallback();
        problems.push(`requested another origin: ${route.request().method()} ${address}`);
        return route.abort("blockedbyclient");
      });
      await context.routeWebSocket(
        () => true,
        (socket) => {
          if (isAllowed(socket.url().replace(/^ws/, "http"))) return socket.connectToServer();
          problems.push(`opened a WebSocket to another origin: ${socket.url()}`);
          return socket.close();
        },
      );
      const page = await context.newPage();
      page.on("console", (message) => {
        if (message.type() !== "error") return;
        if (expectConsoleErrors.some((pattern) => pattern.test(message.text()))) return;
        problems.push(`console error: ${message.text()}`);
      });
      page.on("pageerror", (error) => problems.push(`uncaught error: ${error.message}`));
      const response = await page.goto(url, { waitUntil: "load" });
      if (!response?.ok()) throw new Error(`${url} answered ${response?.status()}`);
      return page;
    },
    async screenshot(page, name) {
      await fs.mkdir(ARTIFACTS, { recursive: true });
      const file = path.join(ARTIFACTS, `${name}.png`);
      await page.screenshot({ path: file, fullPage: true });
      return path.relative(REPO_ROOT, file);
    },
  };

  let timer;
  try {
    await Promise.race([
      run(t),
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error(`not finished within ${TEST_TIMEOUT_MS / 1000} s`)), TEST_TIMEOUT_MS);
      }),
    ]);
  } finally {
    clearTimeout(timer);
    for (const context of contexts) await context.close().catch(() => {});
  }
  if (problems.length > 0) throw new Error(problems.join("\n"));
}

async function main() {
  const filters = process.argv.slice(2);
  const files = readdirSync(HERE)
    .filter((file) => file.endsWith(".browser.mjs"))
    .filter((file) => filters.length === 0 || filters.some((filter) => file.includes(filter)))
    .sort();
  if (files.length === 0) throw new Error(`no browser test matches ${filters.join(", ")}`);

  browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: CHROMIUM_ARGS,
    // Playwright's own handlers would exit at once on a signal, before the stack is stopped.
    handleSIGINT: false,
    handleSIGTERM: false,
    handleSIGHUP: false,
  });
  console.log(`Chromium ${browser.version()} (${CHROMIUM}), offline`);

  const started = performance.now();
  let [passed, failed] = [0, 0];
  for (const file of files) {
    const module = await import(pathToFileURL(path.join(HERE, file)).href);
    const name = `${file.replace(/\.browser\.mjs$/, "")}: ${module.title ?? "(untitled)"}`;
    const testStarted = performance.now();
    try {
      await runTest(module.default);
      passed++;
      console.log(`✓ ${name} (${seconds(testStarted)})`);
    } catch (error) {
      if (interrupted) break;
      failed++;
      console.log(`✗ ${name}\n${indent(error instanceof Error ? (error.stack ?? error.message) : String(error))}`);
    }
    if (interrupted) break;
  }
  const skipped = files.length - passed - failed;
  console.log(
    `browser tests: ${passed} passed, ${failed} failed${skipped ? `, ${skipped} not run` : ""} (${seconds(started)} in all)`,
  );
  return failed === 0 && skipped === 0 ? 0 : 1;
}

/** @param {number} since performance.now() then */
function seconds(since) {
  return `${((performance.now() - since) / 1000).toFixed(1)} s`;
}

/** @param {string} text */
function indent(text) {
  return text.replace(/^/gm, "    ");
}

let code = 1;
try {
  code = await main();
} catch (error) {
  console.error(`npm run test:browser: ${error instanceof Error ? error.message : error}`);
} finally {
  await shutdown();
}
process.exit(code);

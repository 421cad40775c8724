// The README's book page (test/browser/ui-chat/) for the browser tests that run it: bundled as a
// front end's build would, checked against the README, and driven as a reader would.
import assert from "node:assert/strict";
import { copyFile, readFile } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";
import { REPO_ROOT } from "../../scripts/local-database.mjs";

const PAGE = path.join(path.dirname(fileURLToPath(import.meta.url)), "ui-chat");

/** The service's settings for answers from the fake model and Qdrant at `upstream`, its default scenario. */
export function fakeModelVars(/** @type {string} */ upstream) {
  return {
    LLM_BASE_URL: `${upstream}/v1`,
    LLM_API_KEY: "browser-test",
    LLM_MODEL: "fake-chat-model",
    EMBEDDING_MODEL: "fake-embedding-model",
    QDRANT_URL: `${upstream}/qdrant`,
    QDRANT_API_KEY: "browser-test",
    QDRANT_COLLECTION: "humanoid-book",
  };
}

/** Types a question, sends it, and waits until its answer has been streamed to the end. */
export async function ask(/** @type {import("playwright-core").Page} */ page, /** @type {string} */ question) {
  const answers = await page.locator("li.message.assistant").count();
  await page.locator(".book-chat input").fill(question);
  await page.locator(".book-chat button[type=submit]").click();
  await page.locator("li.message.assistant").nth(answers).waitFor({ timeout: 20_000 });
  await page.locator(".book-chat[data-status=ready]").waitFor({ timeout: 20_000 });
  const error = await page.locator(".book-chat .error").count();
  assert.equal(error, 0, `the page shows an error: ${await page.locator(".book-chat").textContent()}`);
}

/** The messages as the page shows them. */
export function conversation(/** @type {import("playwright-core").Page} */ page) {
  return page.locator("li.message").evaluateAll((items) =>
    items.map((item) => ({
      role: item.classList.contains("user") ? "user" : "assistant",
      text: item.querySelector("p")?.textContent ?? "",
      sources: [...item.querySelectorAll(".source")].map((source) => ({
        text: source.textContent,
        href: source.getAttribute("href"),
      })),
    })),
  );
}

/** The README's "Use it from React" shows the page's component and its sign-in as they are, past their imports. */
export async function expectReadmeShowsThePage() {
  const readme = await readFile(path.join(REPO_ROOT, "README.md"), "utf8");
  for (const file of ["book-chat.tsx", "sign-in.tsx"]) {
    const source = await readFile(path.join(PAGE, file), "utf8");
    const body = source.slice(source.indexOf("\n\n") + 2);
    assert.ok(readme.includes(body), `README.md's copy of test/browser/ui-chat/${file} differs from the file`);
  }
}

/**
 * Bundles the page with esbuild for the browser, as a front end's build would, into a folder of
 * its own (index.html and main.js); returns the folder and its files by the path they are served at.
 */
export async function bundlePage(/** @type {string} */ tmp) {
  const folder = path.join(tmp, "ui-chat-page");
  await build({
    entryPoints: [path.join(PAGE, "main.tsx")],
    bundle: true,
    format: "esm",
    platform: "browser",
    target: "es2022",
    jsx: "automatic",
    minify: true,
    define: { "process.env.NODE_ENV": '"production"' },
    outfile: path.join(folder, "main.js"),
    logLevel: "warning",
  });
  await copyFile(path.join(PAGE, "index.html"), path.join(folder, "index.html"));
  return {
    folder,
    files: {
      "/": await readFile(path.join(folder, "index.html")),
      "/main.js": await readFile(path.join(folder, "main.js")),
    },
  };
}

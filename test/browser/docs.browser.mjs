// GET /docs in Chromium, offline: the reference lists every operation of /openapi.json by its
// method and path and opens each, using nothing but the service's own origin; without JavaScript
// the page still says what it is and links to /openapi.json. Reaches `wrangler dev` over HTTP.
import assert from "node:assert/strict";

export const title = "/docs lists every operation of /openapi.json, from its own origin alone";

const METHODS = new Set(["get", "put", "post", "delete", "options", "head", "patch", "trace"]);

/** @param {import("./run.mjs").Harness} t */
export default async function docs(t) {
  const { base } = await t.service();
  const response = await fetch(`${base}/openapi.json`);
  assert.equal(response.status, 200);
  /** @type {{ paths: Record<string, Record<string, unknown>> }} */
  const description = await response.json();
  const operations = Object.entries(description.paths)
    .flatMap(([path, item]) =>
      Object.keys(item)
        .filter((key) => METHODS.has(key))
        .map((method) => `${method.toUpperCase()} ${path}`),
    )
    .sort();
  assert.ok(operations.length > 0, "/openapi.json documents no operation");

  const page = await t.open(`${base}/docs`);
  // Swagger UI renders the operations at once when the document has loaded. Not waiting longer
  // than that is no failure yet: the comparison below says which operations are missing.
  await page
    .waitForFunction((count) => document.querySelectorAll(".opblock").length >= count, operations.length, {
      timeout: 20_000,
    })
    .catch(() => {});
  // What a reader sees on each operation's line; Swagger UI breaks long paths with zero-width spaces.
  const listed = await page.locator(".opblock-summary").evaluateAll((summaries) =>
    summaries.map((summary) =>
      [".opblock-summary-method", ".opblock-summary-path"]
        // biome-ignore lint/performance/useDomNodeTextContent: the text as rendered, which is what a reader sees
        .map((part) => /** @type {HTMLElement | null} */ (summary.querySelector(part))?.innerText ?? "")
        .join(" ")
        .replace(/[\u200b\s]+/g, " ")
        .trim(),
    ),
  );
  const missing = operations.filter((operation) => !listed.includes(operation));
  assert.deepEqual(missing, [], `not on the page: ${missing.join(", ")}; listed: ${listed.join(", ")}`);
  assert.ok(await page.locator('a[href="/openapi.json"]').count(), "no link to /openapi.json");
  console.log(`    ${operations.length} operations found; screenshot ${await t.screenshot(page, "docs")}`);

  // Opened, each operation renders its parameters, bodies and highlighted examples, all under the
  // page's Content-Security-Policy: a violation would be a console error. One at a time, closed
  // again after: with every operation open, each further one took longer to render.
  const controls = await page.locator(".opblock-summary-control").all();
  assert.equal(controls.length, operations.length, "an operation without its control");
  for (const control of controls) {
    await control.click();
    await page.locator(".opblock-body").first().waitFor();
    await control.click();
    await page.waitForFunction(() => document.querySelectorAll(".opblock-body").length === 0);
  }

  const plain = await t.open(`${base}/docs`, { javaScriptEnabled: false });
  assert.match((await plain.locator("h1").textContent()) ?? "", /API reference/);
  assert.ok(await plain.locator('main a[href="/openapi.json"]').count(), "no link to /openapi.json without JavaScript");
  await t.screenshot(plain, "docs-without-javascript");
}

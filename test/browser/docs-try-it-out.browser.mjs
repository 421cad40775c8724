// Swagger UI's "Try it out" on /docs, as a newcomer uses it on a fresh database: the chat
// operations, executed exactly as pre-filled, answer 200; no operation pre-fills a session UUID.
// Reaches `wrangler dev` over HTTP, in Chromium.
import assert from "node:assert/strict";

export const title = "/docs: Try it out on the chat operations answers 200 as pre-filled";

/** @param {import("./run.mjs").Harness} t */
export default async function tryItOut(t) {
  const { base } = await t.service();
  const page = await t.open(`${base}/docs`);
  for (const operationId of ["askChatbot", "chatWithUseChat"]) {
    const block = page.locator(`#operations-chat-${operationId}`);
    await block.locator(".opblock-summary-control").click();
    await block.locator(".try-out__btn").click();
    // The session's header field is there, and empty: sent empty, it is left out.
    const header = block.locator('tr[data-param-name="X-Session-Id"] input');
    assert.equal(await header.inputValue(), "", `${operationId}: X-Session-Id is pre-filled`);
    await block.locator("button.execute").click();
    const status = block.locator(".live-responses-table .response .response-col_status");
    await status.first().waitFor({ timeout: 20_000 });
    const code = ((await status.first().textContent()) ?? "").trim();
    const body = ((await block.locator(".live-responses-table .response-col_description").first().textContent()) ?? "")
      .trim()
      .slice(0, 300);
    assert.equal(code, "200", `${operationId} as pre-filled answered ${code}: ${body}`);
  }
  console.log(`    both chat operations answered 200; screenshot ${await t.screenshot(page, "docs-try-it-out")}`);
}

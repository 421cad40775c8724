// useChat in Chromium (issue 12): the README's BookChat (test/browser/ui-chat/), bundled with the
// pinned @ai-sdk/react and served from a second origin, holds a two-turn conversation with sources
// against `wrangler dev` of the service (fake model and Qdrant), reloads, restores it from
// GET /api/ui/chat/{uuid}/messages and goes on in the same session; CORS_ORIGINS lists that origin.
import assert from "node:assert/strict";
import { createServer } from "node:http";
import { SERVICE_CONFIG } from "../../scripts/bench-stack.mjs";
import { findFreePort } from "../../scripts/local-database.mjs";
import { ask, bundlePage, conversation, expectReadmeShowsThePage, fakeModelVars } from "./book-page.mjs";

export const title = "useChat talks to the service from another origin, and a reload restores the conversation";

/** @param {import("./run.mjs").Harness} t */
export default async function uiChat(t) {
  await t.service();
  const { stack } = t;
  assert.ok(stack.database, "the harness started no database");
  await expectReadmeShowsThePage();

  const pageServer = await servePage((await bundlePage(await stack.tempDir())).files);
  stack.beforeStop.push(pageServer.close);
  const upstream = await stack.startFakeUpstream();
  const service = await stack.startWrangler({
    name: "service for useChat",
    config: SERVICE_CONFIG,
    vars: {
      RATE_LIMITS: "off",
      // Exactly the page's origin: the browser enforces CORS, so a narrower grant would fail here.
      CORS_ORIGINS: pageServer.origin,
      ...fakeModelVars(upstream),
    },
    databaseUrl: stack.database.url,
    readyPath: "/health",
  });
  try {
    const page = await t.open(`${pageServer.origin}/?api=${encodeURIComponent(service.base)}`, {
      allowOrigins: [service.base],
    });
    /** @type {any[]} */
    const sent = [];
    page.on("request", (request) => {
      if (request.method() === "POST") sent.push(request.postDataJSON());
    });

    await ask(page, "What is a ZMP?");
    await ask(page, "And how does a biped keep it inside the support polygon?");
    const live = await conversation(page);
    assert.deepEqual(
      live.map((m) => [m.role, m.text]),
      [
        ["user", "What is a ZMP?"],
        ["assistant", "Fake answer."],
        ["user", "And how does a biped keep it inside the support polygon?"],
        ["assistant", "Fake answer."],
      ],
    );
    for (const answer of [live[1], live[3]]) {
      assert.deepEqual(answer?.sources, [
        { text: "[1] Chapter 3: Balance", href: "https://book.example/ch3" },
        { text: "[2] Chapter 5: Walking", href: "https://book.example/ch5" },
      ]);
    }
    // Only the newest message travelled, and the second turn named the session of the first.
    assert.deepEqual(
      sent.map((body) => Object.keys(body).sort()),
      [
        ["message", "trigger"],
        ["id", "message", "trigger"],
      ],
    );
    const sessionUuid = await page.evaluate(() => localStorage.getItem("book-chat-session"));
    assert.ok(sessionUuid, "the chat stored no session");
    assert.match(sessionUuid, /^[0-9a-f-]{36}$/);
    assert.equal(sent[1].id, sessionUuid);
    await t.screenshot(page, "ui-chat-two-turns");

    await page.reload({ waitUntil: "load" });
    await page.locator(".book-chat[data-status=ready]").waitFor({ timeout: 20_000 });
    await page.locator("li.message").nth(3).waitFor({ timeout: 20_000 });
    assert.deepEqual(await conversation(page), live, "the reloaded page shows the conversation as it was");
    await t.screenshot(page, "ui-chat-restored");

    await ask(page, "One more after the reload");
    assert.equal(sent.at(-1).id, sessionUuid, "the restored chat goes on in its session");
    const stored = await fetch(`${service.base}/api/sessions/${sessionUuid}/messages`);
    const { messages } = /** @type {{ messages: { seq: number, sender: string }[] }} */ (await stored.json());
    assert.deepEqual(
      messages.map((m) => `${m.seq}:${m.sender}`),
      ["1:user", "2:bot", "3:user", "4:bot", "5:user", "6:bot"],
    );
    console.log(`    6 messages in session ${sessionUuid.slice(0, 8)}…, restored after a reload`);
  } finally {
    await stack.stopWrangler(service);
    await pageServer.close();
  }
}

/** Serves the page on a free 127.0.0.1 port: another origin than the service's. */
async function servePage(/** @type {Record<string, Buffer>} */ files) {
  const types = { "/": "text/html; charset=utf-8", "/main.js": "text/javascript; charset=utf-8" };
  const server = createServer((request, response) => {
    const { pathname } = new URL(request.url ?? "/", "http://page.invalid");
    const file = files[pathname];
    if (!file) return response.writeHead(404).end();
    response.writeHead(200, { "Content-Type": types[/** @type {keyof typeof types} */ (pathname)] }).end(file);
  });
  const port = await findFreePort();
  await new Promise((resolve) => server.listen(port, "127.0.0.1", () => resolve(undefined)));
  let closed;
  return {
    origin: `http://127.0.0.1:${port}`,
    close: () => {
      closed ??= new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve(undefined));
      });
      return closed;
    },
  };
}

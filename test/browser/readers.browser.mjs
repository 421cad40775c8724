// Readers in Chromium (issue 18): the book's site is Better Auth (test/fakes/book-site.mjs) serving
// the README's page on its own origin; the service (`wrangler dev`, fake model) verifies Better
// Auth's tokens through its JWKS. An anonymous conversation is claimed at sign-up, and a second
// browser context (another device) signs in, lists it with its title, restores and continues it.
import assert from "node:assert/strict";
import { createInterface } from "node:readline";
import { SERVICE_CONFIG } from "../../scripts/bench-stack.mjs";
import { ask, bundlePage, conversation, expectReadmeShowsThePage, fakeModelVars } from "./book-page.mjs";

export const title =
  "an anonymous conversation, claimed at sign-in, is listed, restored and continued on another device";

const reader = { email: "ada@book.example", password: "correct-horse-battery-staple" };

/** @param {import("./run.mjs").Harness} t */
export default async function readers(t) {
  await t.service();
  const { stack } = t;
  assert.ok(stack.database, "the harness started no database");
  await expectReadmeShowsThePage();

  const site = await startBookSite(stack, (await bundlePage(await stack.tempDir())).folder);
  const upstream = await stack.startFakeUpstream();
  const service = await stack.startWrangler({
    name: "service for readers",
    config: SERVICE_CONFIG,
    vars: {
      RATE_LIMITS: "off",
      CORS_ORIGINS: site,
      // Better Auth's JWT plugin: its JWKS, and its base URL as `iss` and `aud`.
      AUTH_JWKS_URL: `${site}/api/auth/jwks`,
      AUTH_ISSUER: site,
      AUTH_AUDIENCE: site,
      ...fakeModelVars(upstream),
    },
    databaseUrl: stack.database.url,
    readyPath: "/health",
  });
  const pageUrl = `${site}/?api=${encodeURIComponent(service.base)}`;
  try {
    // 1. Anonymous: a conversation of two turns, its session kept in localStorage.
    const laptop = await t.open(pageUrl, { allowOrigins: [service.base] });
    await ask(laptop, "What is a ZMP?");
    await ask(laptop, "And how does a biped keep it inside the support polygon?");
    const held = await conversation(laptop);
    assert.equal(held.length, 4);
    const sessionUuid = await laptop.evaluate(() => localStorage.getItem("book-chat-session"));
    assert.match(sessionUuid ?? "", /^[0-9a-f-]{36}$/);
    assert.equal(await laptop.locator("nav.conversations").count(), 0, "an anonymous reader has no list");
    assert.equal((await messagesOf(service.base, sessionUuid)).status, 200, "anonymous: the UUID alone reads it");
    await t.screenshot(laptop, "readers-1-anonymous");

    // 2. Sign-up through Better Auth in the page; the page claims the session it held.
    const claimed = laptop.waitForResponse((response) => response.url().endsWith("/api/me/sessions/claim"));
    await enter(laptop, "Sign up");
    const claim = await claimed;
    assert.equal(claim.status(), 200);
    assert.deepEqual(await claim.json(), { claimed: [sessionUuid], not_found: [] });
    assert.deepEqual(claim.request().postDataJSON(), { session_uuids: [sessionUuid] });
    assert.match(claim.request().headers().authorization ?? "", /^Bearer ey/);
    await laptop.locator("nav.conversations button.conversation").first().waitFor({ timeout: 20_000 });
    assert.deepEqual(await listed(laptop), ["What is a ZMP?"]);
    assert.equal(await laptop.evaluate(() => localStorage.getItem("book-chat-session")), null, "dropped once claimed");
    assert.deepEqual(await conversation(laptop), held, "the conversation on screen stays");
    assert.equal((await messagesOf(service.base, sessionUuid)).status, 404, "owned: the UUID alone no longer reads it");
    await t.screenshot(laptop, "readers-2-signed-up-and-claimed");

    // 3. Another device: empty storage, signs in, finds the conversation, restores and continues it.
    const phone = await t.open(pageUrl, { allowOrigins: [service.base] });
    assert.equal(await phone.evaluate(() => localStorage.length), 0);
    await enter(phone, "Sign in");
    await phone.locator("nav.conversations button.conversation").first().waitFor({ timeout: 20_000 });
    assert.deepEqual(await listed(phone), ["What is a ZMP?"]);
    assert.equal(await phone.locator("li.message").count(), 0, "a new device opens on a new conversation");
    await t.screenshot(phone, "readers-3-other-device-list");

    await phone.locator("nav.conversations button.conversation", { hasText: "What is a ZMP?" }).click();
    await phone.locator("li.message").nth(3).waitFor({ timeout: 20_000 });
    assert.deepEqual(await conversation(phone), held, "the other device shows the conversation as it was");
    await t.screenshot(phone, "readers-4-other-device-restored");

    /** @type {import("playwright-core").Request[]} */
    const turns = [];
    phone.on("request", (request) => {
      if (request.method() === "POST" && request.url().endsWith("/api/ui/chat")) turns.push(request);
    });
    await ask(phone, "One more from the phone");
    assert.equal(turns.length, 1);
    assert.equal(turns[0]?.postDataJSON().id, sessionUuid, "the restored chat goes on in its session");
    assert.match(turns[0]?.headers().authorization ?? "", /^Bearer ey/);
    const continued = await conversation(phone);
    assert.deepEqual(
      continued.slice(4).map((m) => [m.role, m.text]),
      [
        ["user", "One more from the phone"],
        ["assistant", "Fake answer."],
      ],
    );
    await t.screenshot(phone, "readers-5-other-device-continued");

    // The service stored the new turn in the same session, readable with the reader's token only.
    const token = await phone.evaluate(async () => (await (await fetch("/api/auth/token")).json()).token);
    const stored = await messagesOf(service.base, sessionUuid, token);
    assert.equal(stored.status, 200);
    const { messages } = /** @type {{ messages: { seq: number, sender: string, message: string }[] }} */ (
      await stored.json()
    );
    assert.deepEqual(
      messages.map((m) => `${m.seq}:${m.sender}`),
      ["1:user", "2:bot", "3:user", "4:bot", "5:user", "6:bot"],
    );
    assert.equal(messages[4]?.message, "One more from the phone");
    const mine = await fetch(`${service.base}/api/me/sessions`, { headers: { Authorization: `Bearer ${token}` } });
    const { sessions } = /** @type {{ sessions: { session_uuid: string, title: string, message_count: number }[] }} */ (
      await mine.json()
    );
    assert.deepEqual(
      sessions.map((s) => [s.session_uuid, s.title, s.message_count]),
      [[sessionUuid, "What is a ZMP?", 6]],
    );
    console.log(
      `    session ${sessionUuid?.slice(0, 8)}… claimed at sign-up, continued on a second device: 6 messages`,
    );
  } catch (error) {
    console.log(await service.lastOutput());
    throw error;
  } finally {
    await stack.stopWrangler(service);
  }
}

/** Signs the reader up or in with the page's own form (Better Auth's email routes). */
async function enter(/** @type {import("playwright-core").Page} */ page, /** @type {string} */ button) {
  await page.locator("form.sign-in input[type=email]").fill(reader.email);
  await page.locator("form.sign-in input[type=password]").fill(reader.password);
  await page.locator("form.sign-in button", { hasText: button }).click();
  await page.locator(".signed-in").waitFor({ timeout: 20_000 });
}

/** The titles of the reader's conversations, as the page lists them. */
function listed(/** @type {import("playwright-core").Page} */ page) {
  return page.locator("nav.conversations button.conversation").allTextContents();
}

/** The service's history of a session (docs/api.md §5), with a reader's token or none. */
function messagesOf(/** @type {string} */ base, /** @type {string | null} */ sessionUuid, token = "") {
  return fetch(`${base}/api/sessions/${sessionUuid}/messages`, {
    headers: token ? { Authorization: `Bearer ${token}` } : {},
  });
}

/**
 * Starts Better Auth with the bundled page on its origin, in a process of its own (stopped with
 * the stack); returns its origin.
 *
 * @param {import("../../scripts/bench-stack.mjs").BenchStack} stack
 * @param {string} folder the bundled page
 */
async function startBookSite(stack, folder) {
  const child = stack.spawn(
    "book site",
    process.execPath,
    ["--experimental-strip-types", "--disable-warning=ExperimentalWarning", "test/fakes/book-site.mjs", folder],
    { stdio: ["pipe", "pipe", "inherit"] },
  );
  if (!child.stdout) throw new Error("the book site's output is not piped");
  const lines = createInterface({ input: child.stdout });
  const url = await Promise.race([
    new Promise((resolve) => lines.once("line", (line) => resolve(JSON.parse(line).url))),
    new Promise((_, reject) => child.once("exit", () => reject(new Error("the book site exited")))),
  ]);
  lines.close();
  return /** @type {string} */ (url);
}

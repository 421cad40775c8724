// The operators' page (issue 9) in Chromium: /admin against `wrangler dev` of the service with an
// ADMIN_TOKEN, answering from the fake model and Qdrant. Conversations are seeded through the
// public API (one answer fails on purpose) and ratings through the feedback route; the page is
// refused a wrong token, then shows charts and counts that match what was seeded, finds a word,
// opens its conversation with sources, metadata and feedback, and shows a rating given meanwhile.
// One conversation is given to a signed-in reader by SQL: the page names the reader by its opaque
// reference only, counts the reader, and lists that reader's sessions alone when asked.
// Every view has its address (issue 20): filters, a search and a conversation survive a reload,
// back and forward move between views, and a deep link opened in a new tab (no token: sign-in,
// then the view) or in a tab with a copy of the token shows its view. Each view fits 1366 px and
// 390 px without sideways scrolling; screenshots at both sizes. The frequent questions link to
// their search, and the sources list the cited ones and the collection's passages never cited.
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import fs from "node:fs/promises";
import { SERVICE_CONFIG } from "../../scripts/bench-stack.mjs";

export const title =
  "the operators' page: a wrong token refused, charts and counts that match the seeded data, search, a conversation, a rating";

const laptop = { width: 1366, height: 768 };
const phone = { width: 390, height: 844 };
/** The fake model's key: the scenario of each answer is set for it. */
const FAKE_KEY = "browser-admin";
/** A word no browser can break, in a session's title. */
const LONG_PATH =
  "ros2_ws/src/humanoid_description/urdf/humanoid_v2_full_body_with_backpack_and_head_camera.urdf.xacro";
/** Found in one question only. */
const WORD = "exoskeleton";

/** @param {import("./run.mjs").Harness} t */
export default async function admin(t) {
  await t.service();
  const { stack } = t;
  assert.ok(stack.database, "the harness started no database");
  const upstream = await stack.startFakeUpstream();
  const token = `browser-admin-${randomBytes(24).toString("hex")}`;
  const service = await stack.startWrangler({
    name: "service for /admin",
    config: SERVICE_CONFIG,
    vars: {
      RATE_LIMITS: "off",
      ADMIN_TOKEN: token,
      LLM_BASE_URL: `${upstream}/v1`,
      LLM_API_KEY: FAKE_KEY,
      LLM_MODEL: "fake-chat-model",
      EMBEDDING_MODEL: "fake-embedding-model",
      QDRANT_URL: `${upstream}/qdrant`,
      QDRANT_API_KEY: FAKE_KEY,
      QDRANT_COLLECTION: "humanoid-book",
    },
    databaseUrl: stack.database.url,
    readyPath: "/health",
  });
  const api = client(service.base, token, upstream);

  // What the database held before (another browser test may have written to it), then the seeds.
  const before = (await api.admin("/api/admin/stats")).totals;
  const seeded = await seed(api);
  const owned = seeded.sessions[1];
  const reader = await stack.sql(async (/** @type {any} */ sql) => {
    const [row] = await sql`
        insert into readers (issuer, subject) values ('https://book.example', ${`browser-admin-${randomBytes(8).toString("hex")}`})
        returning id, reference, subject`;
    await sql`update chat_sessions set reader_id = ${row.id} where session_uuid = ${owned}`;
    return { reference: String(row.reference), subject: String(row.subject) };
  });
  const expected = {
    sessions: before.sessions + 3,
    questions: before.questions + 6,
    readers: before.readers + 1,
    complete: before.answers.complete + 5,
    unanswered: before.failures.unanswered + 1,
    up: before.ratings.up + 2,
    down: before.ratings.down + 1,
  };

  // A wrong token is refused, and nothing of the dashboard shows.
  const page = await t.open(`${service.base}/admin`, { expectConsoleErrors: [/status of 401/] });
  await page.setViewportSize(laptop);
  await page.fill("#token", `${token}-wrong`);
  await page.click("#login-form button[type=submit]");
  await page.waitForFunction(() => document.querySelector("#login-error")?.textContent?.includes("refused"));
  assert.equal(await page.isVisible("#dashboard"), false, "the dashboard shows after a wrong token");
  assert.equal(await page.evaluate(() => sessionStorage.length), 0, "a refused token was kept");
  console.log(`    refused: ${await t.screenshot(page, "admin-refused-laptop")}`);

  // The right token opens the activity view; the token is kept for this tab only.
  await page.fill("#token", token);
  await page.click("#login-form button[type=submit]");
  await page.waitForSelector("#chart-questions svg");
  assert.deepEqual(await page.evaluate(() => ({ session: Object.keys(sessionStorage), local: localStorage.length })), {
    session: ["chat-history-admin-token"],
    local: 0,
  });
  assert.equal(await page.getAttribute("#nav-stats", "aria-current"), "page");

  // The tiles and the charts say what was seeded.
  const tile = (/** @type {string} */ id) => page.textContent(`#${id}`).then((text) => Number(text?.replace(/,/g, "")));
  assert.equal(await tile("total-sessions"), expected.sessions, "new sessions");
  assert.equal(await tile("total-questions"), expected.questions, "questions");
  assert.equal(await tile("total-readers"), expected.readers, "signed-in readers");
  assert.equal(await tile("total-complete"), expected.complete, "complete answers");
  assert.equal(await tile("total-unanswered"), expected.unanswered, "unanswered questions");
  assert.equal(await tile("total-up"), expected.up, "rated up");
  assert.equal(await tile("total-down"), expected.down, "rated down");
  const charted = (/** @type {string} */ selector) =>
    page.$$eval(selector, (bars) => bars.reduce((sum, bar) => sum + Number(bar.getAttribute("data-value")), 0));
  assert.equal(await charted("#chart-questions rect[data-series=questions]"), expected.questions);
  assert.ok((await charted("#chart-readers rect[data-series=readers]")) >= 1, "no signed-in reader charted");
  assert.equal(await charted("#chart-failures rect[data-series=unanswered]"), expected.unanswered);
  assert.equal(await charted("#chart-ratings rect[data-series=up]"), expected.up);
  assert.equal(await charted("#chart-ratings rect[data-series=down]"), expected.down);
  assert.ok((await page.$$("#chart-latency circle")).length >= 1, "no p95 latency point");
  assert.match((await page.textContent("#top-sources")) ?? "", /Chapter 3: Balance/);
  await assertFits(page, "activity at 1366 px");
  console.log(`    activity: ${await t.screenshot(page, "admin-activity-laptop")}`);

  // The range is part of the address: choosing one goes there.
  await page.selectOption("#stats-range", "7d");
  await page.click("#stats-form button[type=submit]");
  await page.waitForFunction(() => location.hash === "#/stats?range=7d");
  await page.waitForFunction(() => document.querySelector("#stats-range-label")?.textContent?.includes("by day"));

  // The sessions, a link of the navigation: every seeded session listed, the table as wide as the screen.
  await page.click("#nav-sessions");
  await page.waitForSelector(`#session-rows tr[data-session="${seeded.failed}"]`);
  assert.equal(new URL(page.url()).hash, "#/sessions");
  assert.equal(await page.isVisible("#stats"), false, "the activity view shows with the sessions");
  const listed = await page.$$eval("#session-rows tr", (rows) => rows.map((row) => row.getAttribute("data-session")));
  for (const uuid of seeded.sessions) assert.ok(listed.includes(uuid), `session ${uuid} is not listed`);
  await assertFits(page, "sessions at 1366 px");
  console.log(`    sessions: ${await t.screenshot(page, "admin-sessions-laptop")}`);

  // The owned session names its reader by the reference's first characters, the whole reference in
  // its title, never by the subject; an anonymous one says so. The reader's link lists theirs only.
  const readerCell = `#session-rows tr[data-session="${owned}"] td.reader a`;
  assert.equal(await page.textContent(readerCell), `reader ${reader.reference.slice(0, 8)}`);
  assert.equal(await page.getAttribute(readerCell, "title"), reader.reference);
  assert.equal(await page.textContent(`#session-rows tr[data-session="${seeded.failed}"] td.reader`), "anonymous");
  assert.equal((await page.textContent("#session-rows"))?.includes(reader.subject), false, "the subject is shown");
  await page.click(readerCell);
  await page.waitForFunction((uuid) => {
    const rows = [...document.querySelectorAll("#session-rows tr")];
    return rows.length === 1 && rows[0]?.getAttribute("data-session") === uuid;
  }, owned);
  assert.equal(new URL(page.url()).hash, `#/sessions?reader=${reader.reference}`);
  assert.equal(await page.inputValue("#sessions-reader"), reader.reference);

  // Back: the whole list again, and the filter's field empty again.
  await page.goBack();
  await page.waitForSelector(`#session-rows tr[data-session="${seeded.failed}"]`);
  assert.equal(new URL(page.url()).hash, "#/sessions");
  assert.equal(await page.inputValue("#sessions-reader"), "");

  // The failed-answers filter keeps the session whose answer failed, in the address, past a reload.
  const onlyFailed = (/** @type {string} */ uuid) =>
    page.waitForFunction((failed) => {
      const rows = [...document.querySelectorAll("#session-rows tr")];
      return rows.length > 0 && rows.every((row) => row.getAttribute("data-session") === failed);
    }, uuid);
  await page.check("#sessions-form input[name=has_failures]");
  await page.click("#sessions-form button[type=submit]");
  await onlyFailed(seeded.failed);
  assert.match(new URL(page.url()).hash, /^#\/sessions\?(.*&)?has_failures=true/);
  await page.reload();
  await onlyFailed(seeded.failed);
  assert.equal(await page.isChecked("#sessions-form input[name=has_failures]"), true);

  // Paging (issue 20): 120 older sessions, written by SQL after the counts above were checked, make
  // the list longer than a page (50). "More" clicked twice quickly reads one page, not two copies
  // of it; the address keeps how many pages are shown, so a reload shows the same rows.
  await stack.sql(async (/** @type {any} */ sql) => {
    await sql`
        insert into chat_sessions (session_uuid, created_at, message_count)
        select gen_random_uuid(), timestamptz '2020-01-01' + n * interval '1 minute', 0
        from generate_series(1, 120) as n`;
  });
  const shownSessions = () =>
    page.$$eval("#session-rows tr", (rows) => rows.map((row) => row.getAttribute("data-session")));
  await page.evaluate(() => {
    location.hash = "#/sessions";
  });
  await page.waitForFunction(() => document.querySelectorAll("#session-rows tr").length === 50);
  await page.dblclick("#sessions-more");
  await page.waitForFunction(() => location.hash === "#/sessions?pages=2");
  // Time for a second page to arrive, had the second click asked for one.
  await page.waitForTimeout(1_000);
  const twoPages = await shownSessions();
  assert.equal(twoPages.length, 100, "a double-click on More did not show exactly one more page");
  assert.equal(new Set(twoPages).size, 100, "a session is shown twice");
  await page.reload();
  await page.waitForFunction(() => document.querySelectorAll("#session-rows tr").length === 100);
  assert.deepEqual(await shownSessions(), twoPages, "a reload did not show the same two pages");
  assert.equal(new URL(page.url()).hash, "#/sessions?pages=2");
  // A filter sent from the form starts at the first page again.
  await page.click("#sessions-form button[type=submit]");
  await page.waitForFunction(() => document.querySelectorAll("#session-rows tr").length === 50);
  assert.equal(new URL(page.url()).hash, "#/sessions?min_messages=0");

  // "Download CSV": the list the address shows, every row of it, fetched with the token (an
  // <a download> could not send it) and saved through a blob: URL under the page's CSP.
  const [download] = await Promise.all([page.waitForEvent("download"), page.click("#sessions-csv")]);
  assert.match(download.suggestedFilename(), /^sessions-\d{8}T\d{6}Z\.csv$/);
  const csv = await fs.readFile(/** @type {string} */ (await download.path()));
  assert.deepEqual([...csv.subarray(0, 3)], [0xef, 0xbb, 0xbf], "no byte order mark");
  const lines = csv.toString("utf8").slice(1).split("\r\n");
  assert.match(lines[0] ?? "", /^session_uuid,created_at,last_activity_at,message_count,title,/);
  for (const uuid of [...seeded.sessions, ...twoPages]) {
    assert.ok(
      lines.some((line) => line.startsWith(`${uuid},`)),
      `session ${uuid} is not in the CSV`,
    );
  }

  // A search finds the word, marked; its address holds the words; its link opens the conversation
  // on that message, at that message's address.
  await page.click("#nav-search");
  await page.fill("#search-q", WORD);
  await page.click("#search-form button[type=submit]");
  await page.waitForSelector("#hits li");
  assert.equal(new URL(page.url()).hash, `#/search?q=${WORD}`);
  assert.equal(await page.textContent("#hits li mark"), WORD);
  assert.equal(await page.getAttribute("#hits li", "data-message"), String(seeded.wordQuestionId));
  await assertFits(page, "a search at 1366 px");
  const [hitsDownload] = await Promise.all([page.waitForEvent("download"), page.click("#hits-csv")]);
  assert.match(hitsDownload.suggestedFilename(), /^search-\d{8}T\d{6}Z\.csv$/);
  const hitsCsv = (await fs.readFile(/** @type {string} */ (await hitsDownload.path()))).toString("utf8");
  assert.match(
    hitsCsv,
    new RegExp(
      `^\uFEFFsession_uuid,message_id,seq,sender,status,timestamp,snippet.text\r\n${seeded.conversation},${seeded.wordQuestionId},`,
    ),
  );
  await page.click("#hits li a");
  const question = `#messages article.focused[data-message="${seeded.wordQuestionId}"]`;
  await page.waitForSelector(question);
  const conversationAddress = `#/conversations/${seeded.conversation}?message=${seeded.wordQuestionId}`;
  assert.equal(new URL(page.url()).hash, conversationAddress);
  assert.equal(await page.isVisible("#search"), false, "the search shows with the conversation");
  assert.match((await page.textContent("#conversation-summary")) ?? "", /· anonymous$/);
  // A reader's markup is text on this page.
  assert.match((await page.textContent(question)) ?? "", /change how the <i>ZMP<\/i> is computed/);
  assert.equal(await page.$$eval("#messages i, #hits i", (found) => found.length), 0);
  const answer = `#messages article[data-message="${seeded.ratedUpAnswerId}"]`;
  assert.match((await page.textContent(answer)) ?? "", /fake-chat-model/);
  assert.match((await page.textContent(answer)) ?? "", /Chapter 3: Balance/);
  assert.match((await page.textContent(`${answer} .feedback`)) ?? "", /rated up/);
  const later = `#messages article[data-message="${seeded.laterAnswerId}"]`;
  assert.match((await page.textContent(`${later} .feedback`)) ?? "", /none/);
  await assertFits(page, "a conversation at 1366 px");
  console.log(`    conversation: ${await t.screenshot(page, "admin-conversation-laptop")}`);

  // Back to the hits, forward to the conversation again.
  await page.goBack();
  await page.waitForSelector("#hits li a");
  assert.equal(await page.isVisible("#conversation"), false);
  assert.equal(await page.inputValue("#search-q"), WORD);
  await page.goForward();
  await page.waitForSelector(question);

  // A reader rates an answer through the public API; a reload shows the same conversation, with it.
  await api.rate(seeded.conversation, seeded.laterAnswerId, { rating: "down", comment: "Too vague for a beginner." });
  await page.reload();
  await page.waitForSelector(`${later} .feedback .badge.down`);
  await page.waitForSelector(question);
  assert.match((await page.textContent(`${later} .feedback`)) ?? "", /rated down.*Too vague for a beginner\./);
  assert.equal(new URL(page.url()).hash, conversationAddress);

  // A link to the last message of a conversation longer than a page (200 messages): the page reads
  // on until it holds that message. Written by SQL after the counts above were checked.
  const long = await stack.sql(async (/** @type {any} */ sql) => {
    const [session] = await sql`
        insert into chat_sessions (session_uuid, message_count, last_message_at)
        values (gen_random_uuid(), 250, now()) returning id, session_uuid`;
    const rows = await sql`
        insert into chat_messages (session_id, seq, sender, message, timestamp)
        select ${session.id}, n, 'user', 'Question number ' || n, now() - (250 - n) * interval '1 second'
        from generate_series(1, 250) as n
        returning id, seq`;
    const last = rows.find((/** @type {{ seq: number }} */ row) => row.seq === 250);
    return { sessionUuid: String(session.session_uuid), lastId: Number(last.id) };
  });
  await page.evaluate((address) => {
    location.hash = address;
  }, `#/conversations/${long.sessionUuid}?message=${long.lastId}`);
  await page.waitForSelector(`#messages article.focused[data-message="${long.lastId}"]`);
  assert.equal(await page.$$eval("#messages article", (shown) => shown.length), 250);
  assert.match(
    (await page.textContent(`#messages article[data-message="${long.lastId}"]`)) ?? "",
    /Question number 250/,
  );
  await page.goBack();
  await page.waitForSelector(question);

  // An address that is no valid percent-encoding names no view: the page opens at its home view
  // (a URIError here would be a page error, which fails the test).
  await page.evaluate(() => {
    location.hash = "#/conversations/%E0%A4%A";
  });
  await page.waitForSelector("#stats:not([hidden])");
  assert.equal(await page.isVisible("#conversation"), false, "a malformed address shows no conversation");
  await page.goBack();
  await page.waitForSelector(question);

  // "Open in new tab" (here Ctrl+click on the answer's own link): Chromium gives the new tab no
  // copy of this tab's sessionStorage, so it asks for the token, then shows the linked message.
  const laterAddress = `#/conversations/${seeded.conversation}?message=${seeded.laterAnswerId}`;
  const [newTab] = await Promise.all([
    page.context().waitForEvent("page"),
    page.click(`${later} a.permalink`, { modifiers: ["Control"] }),
  ]);
  await newTab.waitForSelector("#login-form");
  assert.equal(new URL(newTab.url()).hash, laterAddress);
  assert.equal(
    await newTab.textContent("#login-next"),
    `Then this tab shows: Conversation ${seeded.conversation.slice(0, 8)}….`,
  );
  assert.equal(await newTab.evaluate(() => sessionStorage.length), 0, "Chromium copied the token to a new tab");
  assert.equal(await newTab.isVisible("#dashboard"), false);
  await newTab.fill("#token", token);
  await newTab.click("#login-form button[type=submit]");
  await newTab.waitForSelector(`#messages article.focused[data-message="${seeded.laterAnswerId}"]`);
  assert.equal(new URL(newTab.url()).hash, laterAddress);
  await newTab.close();
  assert.equal(new URL(page.url()).hash, conversationAddress, "Ctrl+click navigated this tab");

  // A tab this one opens with an opener (as a duplicated tab) has a copy of its sessionStorage:
  // it shows the linked view at once.
  const [copiedTab] = await Promise.all([
    page.context().waitForEvent("page"),
    page.evaluate((address) => void window.open(address), laterAddress),
  ]);
  await copiedTab.waitForSelector(`#messages article.focused[data-message="${seeded.laterAnswerId}"]`);
  assert.equal(await copiedTab.isVisible("#login-form"), false);
  await copiedTab.close();

  // The content gaps: a question asked twice (in two wordings) whose retrieval found only weak
  // passages, written by SQL (the fake Qdrant's passages score 0.84 and up, no gap); its row
  // links to the newest answer. Then the answers rated down, each with its comment.
  const gap = await stack.sql(async (/** @type {any} */ sql) => {
    /** @type {number[]} */
    const answers = [];
    for (const [question, ago] of /** @type {const} */ ([
      ["What is a series elastic actuator?", 120],
      ["what is a series-elastic actuator", 60],
    ])) {
      const [session] = await sql`
        insert into chat_sessions (session_uuid, message_count, last_message_at)
        values (gen_random_uuid(), 2, now() - ${ago} * interval '1 second') returning id, session_uuid`;
      const [asked] = await sql`
        insert into chat_messages (session_id, seq, sender, message, timestamp)
        values (${session.id}, 1, 'user', ${question}, now() - ${ago + 1} * interval '1 second') returning id`;
      const [answer] = await sql`
        insert into chat_messages (session_id, seq, sender, message, timestamp, reply_to_id, sources, metadata)
        values (${session.id}, 2, 'bot', 'The book does not say.', now() - ${ago} * interval '1 second', ${asked.id},
          ${sql.json([{ title: "Chapter 9: Actuators", url: "https://book.example/ch9", snippet: "…", score: 0.31 }])},
          ${sql.json({ model: "fake-chat-model", retrieval: { provider: "qdrant", passages: 1 } })})
        returning id`;
      answers.push(Number(answer.id));
    }
    return { newestAnswerId: /** @type {number} */ (answers[1]) };
  });
  await page.click("#nav-gaps");
  const gapRow = `#gap-rows li[data-message="${gap.newestAnswerId}"]`;
  await page.waitForSelector(gapRow);
  assert.equal(new URL(page.url()).hash, "#/gaps");
  assert.equal(await page.textContent(`${gapRow} .question`), "what is a series-elastic actuator");
  assert.match((await page.textContent(gapRow)) ?? "", /Asked 2 times · best score 0\.31/);
  assert.equal(await page.$$eval("#gap-rows li", (rows) => rows.length), 1, "an answer from good passages is a gap");
  await assertFits(page, "content gaps at 1366 px");
  console.log(`    content gaps: ${await t.screenshot(page, "admin-gaps-laptop")}`);
  await page.click(`${gapRow} a`);
  await page.waitForSelector(`#messages article.focused[data-message="${gap.newestAnswerId}"]`);
  await page.goBack();
  await page.waitForSelector(gapRow);
  await page.click("#nav-rated-down");
  const ratedRow = (/** @type {number} */ id) => `#rated-down-rows li[data-message="${id}"]`;
  await page.waitForSelector(ratedRow(seeded.laterAnswerId));
  const ratedShown = await page.$$eval("#rated-down-rows li", (rows) =>
    rows.map((row) => Number(row.getAttribute("data-message"))),
  );
  assert.deepEqual(
    ratedShown.filter((id) => id === seeded.laterAnswerId || id === seeded.ratedDownAnswerId),
    [seeded.laterAnswerId, seeded.ratedDownAnswerId],
    "the answers rated down, newest rating first",
  );
  assert.equal(await page.textContent(`${ratedRow(seeded.laterAnswerId)} .comment`), "Too vague for a beginner.");
  assert.equal(await page.textContent(`${ratedRow(seeded.laterAnswerId)} .question`), "And on stairs?");
  assert.match(
    (await page.textContent(`${ratedRow(seeded.laterAnswerId)} ol.sources`)) ?? "",
    /Chapter 3: Balance · score 0\.91/,
  );
  await assertFits(page, "answers rated down at 1366 px");
  console.log(`    rated down: ${await t.screenshot(page, "admin-rated-down-laptop")}`);
  await page.click(`${ratedRow(seeded.ratedDownAnswerId)} a[href^="#/conversations/"]`);
  await page.waitForSelector(`#messages article.focused[data-message="${seeded.ratedDownAnswerId}"]`);
  await page.goBack();
  await page.waitForSelector(ratedRow(seeded.ratedDownAnswerId));
  await page.goBack();
  await page.waitForSelector(gapRow);
  await page.goBack();
  await page.waitForSelector(question);

  // A deep link in a fresh browser (no token anywhere): the sign-in form, then the linked search.
  const fresh = await t.open(`${service.base}/admin#/search?q=${WORD}`);
  await fresh.setViewportSize(phone);
  assert.equal(await fresh.isVisible("#login-form"), true);
  assert.equal(await fresh.isVisible("#dashboard"), false);
  assert.equal(await fresh.textContent("#login-next"), `Then this tab shows: Search for “${WORD}”.`);
  await assertFits(fresh, "the sign-in form at 390 px");
  console.log(`    sign-in for a link, on a phone: ${await t.screenshot(fresh, "admin-sign-in-phone")}`);
  await fresh.fill("#token", token);
  await fresh.click("#login-form button[type=submit]");
  await fresh.waitForSelector(`#hits li[data-message="${seeded.wordQuestionId}"]`);
  assert.equal(await fresh.inputValue("#search-q"), WORD);
  await assertFits(fresh, "a search at 390 px");
  console.log(`    search on a phone: ${await t.screenshot(fresh, "admin-search-phone")}`);

  // The frequent questions: each seeded question once, linked to the search for its words among
  // the questions, which finds it.
  await page.setViewportSize(laptop);
  await page.click("#nav-frequent");
  const balance = '#frequent-rows li a[href^="#/search?q=how+does+a+humanoid+keep+its+balance"]';
  await page.waitForSelector(balance);
  assert.equal(await page.textContent(balance), "How does a humanoid keep its balance when it walks?");
  assert.match((await page.getAttribute(balance, "href")) ?? "", /&sender=user$/);
  assert.match((await page.textContent("#frequent-rows")) ?? "", /asked 1 × · rated up 1 \(100 %\)/);
  await assertFits(page, "frequent questions at 1366 px");
  console.log(`    frequent questions: ${await t.screenshot(page, "admin-frequent-laptop")}`);
  await page.click(balance);
  await page.waitForSelector(`#hits li[data-message="${seeded.firstQuestionId}"]`);
  assert.equal(await page.inputValue("#search-sender"), "user");
  await page.goBack();
  await page.waitForSelector(balance);

  // The sources: the fake Qdrant's two passages, cited by every answer, and so none never cited.
  await page.click("#nav-sources");
  await page.waitForSelector("#cited-rows li a[href='https://book.example/ch3']");
  await page.waitForFunction(() =>
    /humanoid-book, all of it/.test(document.getElementById("uncited-note")?.textContent ?? ""),
  );
  assert.equal(await page.isVisible("#uncited-empty"), true);
  const [uncitedDownload] = await Promise.all([page.waitForEvent("download"), page.click("#uncited-csv")]);
  assert.match(uncitedDownload.suggestedFilename(), /^uncited-passages-\d{8}T\d{6}Z\.csv$/);
  const uncitedCsv = (await fs.readFile(/** @type {string} */ (await uncitedDownload.path()))).toString("utf8");
  assert.equal(uncitedCsv, "\uFEFFid,title,url\r\n", "every passage is cited, so the CSV holds none");
  await assertFits(page, "sources at 1366 px");
  console.log(`    sources: ${await t.screenshot(page, "admin-sources-laptop")}`);
  await page.setViewportSize(phone);
  await assertFits(page, "sources at 390 px");
  console.log(`    sources on a phone: ${await t.screenshot(page, "admin-sources-phone")}`);
  await page.click("#nav-frequent");
  await page.waitForSelector(balance);
  await assertFits(page, "frequent questions at 390 px");
  console.log(`    frequent questions on a phone: ${await t.screenshot(page, "admin-frequent-phone")}`);
  await page.setViewportSize(laptop);
  await page.evaluate((address) => {
    location.hash = address;
  }, conversationAddress);
  await page.waitForSelector(question);

  // Readable on a phone: nothing wider than the screen, in every view.
  await page.setViewportSize(phone);
  await page.evaluate(() => window.scrollTo(0, 0));
  await assertFits(page, "a conversation at 390 px");
  console.log(`    conversation on a phone: ${await t.screenshot(page, "admin-conversation-phone")}`);
  await page.click("#nav-sessions");
  await page.waitForSelector(`#session-rows tr[data-session="${seeded.failed}"]`);
  await assertFits(page, "sessions at 390 px");
  console.log(`    sessions on a phone: ${await t.screenshot(page, "admin-sessions-phone")}`);
  await page.click("#nav-gaps");
  await page.waitForSelector(gapRow);
  await assertFits(page, "content gaps at 390 px");
  console.log(`    content gaps on a phone: ${await t.screenshot(page, "admin-gaps-phone")}`);
  await page.click("#nav-rated-down");
  await page.waitForSelector(ratedRow(seeded.laterAnswerId));
  await page.click(`${ratedRow(seeded.laterAnswerId)} summary`);
  await assertFits(page, "answers rated down at 390 px");
  console.log(`    rated down on a phone: ${await t.screenshot(page, "admin-rated-down-phone")}`);
  await page.click("#nav-stats");
  await page.waitForSelector("#chart-questions svg");
  await assertFits(page, "activity at 390 px");
  console.log(`    activity on a phone: ${await t.screenshot(page, "admin-activity-phone")}`);

  // Logging out forgets the token; a link followed then asks for it again.
  await page.click("#logout");
  assert.equal(await page.evaluate(() => sessionStorage.length), 0);
  assert.equal(await page.isVisible("#login-form"), true);
  await page.evaluate(() => {
    location.hash = "#/sessions";
  });
  await page.waitForFunction(() => location.hash === "#/sessions");
  assert.equal(await page.isVisible("#dashboard"), false);
  assert.equal(await page.isVisible("#login-form"), true);
}

/**
 * The page as shown fits the viewport's width: the document does not scroll sideways, no element
 * reaches past either edge, and no box (the sessions table's) scrolls sideways inside itself.
 *
 * @param {import("playwright-core").Page} page @param {string} where
 */
async function assertFits(page, where) {
  const found = await page.evaluate(() => {
    const width = window.innerWidth;
    const name = (/** @type {Element} */ node) =>
      `${node.tagName.toLowerCase()}${node.id ? `#${node.id}` : ""}${node.classList.length ? `.${[...node.classList].join(".")}` : ""}`;
    /** @type {string[]} */
    const wide = [];
    for (const node of document.querySelectorAll("body *")) {
      const box = node.getBoundingClientRect();
      if (box.width === 0 && box.height === 0) continue;
      if (box.left < -1 || box.right > width + 1)
        wide.push(`${name(node)} spans ${Math.round(box.left)}–${Math.round(box.right)} px`);
      // A box whose content is wider than itself: it scrolls sideways, or its text runs out of it.
      // (An SVG's text is drawn to its viewBox, scaled: its box, checked above, is what shows.)
      if (node instanceof HTMLElement && node.clientWidth > 0 && node.scrollWidth > node.clientWidth + 1) {
        const overflow = getComputedStyle(node).overflowX;
        wide.push(`${name(node)} is ${node.scrollWidth} px wide in ${node.clientWidth} px (overflow-x ${overflow})`);
      }
    }
    const scrolling = document.scrollingElement ?? document.documentElement;
    return { width, scrollWidth: scrolling.scrollWidth, wide: wide.slice(0, 10) };
  });
  assert.ok(
    found.scrollWidth <= found.width,
    `${where}: the page is ${found.scrollWidth} px wide in ${found.width} px`,
  );
  assert.deepEqual(found.wide, [], `${where}: wider than the viewport`);
}

/**
 * The public API and the admin API of the service, and the fake model's script.
 *
 * @param {string} base @param {string} token @param {string} upstream
 */
function client(base, token, upstream) {
  /** @param {string} path @param {RequestInit} [init] */
  const call = async (path, init = {}) => {
    const response = await fetch(new URL(path, base), init);
    const text = await response.text();
    return { status: response.status, body: text ? JSON.parse(text) : null };
  };
  return {
    /** @param {string} path */
    async admin(path) {
      const { status, body } = await call(path, { headers: { Authorization: `Bearer ${token}` } });
      assert.equal(status, 200, JSON.stringify(body));
      return body;
    },
    /** @param {string} question @param {string | undefined} sessionUuid */
    async ask(question, sessionUuid) {
      return call("/api/chat", {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ question, session_uuid: sessionUuid }),
      });
    },
    /** @param {string} sessionUuid @param {number} messageId @param {{ rating: string, comment?: string }} feedback */
    async rate(sessionUuid, messageId, feedback) {
      const { status, body } = await call(`/api/sessions/${sessionUuid}/messages/${messageId}/feedback`, {
        method: "PUT",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify(feedback),
      });
      assert.equal(status, 200, JSON.stringify(body));
    },
    /** The fake model's next answers. @param {object} chat */
    async script(chat) {
      const response = await fetch(`${upstream}/__fake/scenarios/${FAKE_KEY}`, {
        method: "PUT",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ chat }),
      });
      assert.ok(response.ok, `the fake model refused the scenario: ${response.status}`);
      await response.arrayBuffer();
    },
  };
}

/**
 * Three conversations through the public API: six questions, five answers (one question's answer
 * fails), two answers rated up and one down through the feedback route.
 *
 * @param {ReturnType<typeof client>} api
 */
async function seed(api) {
  /** @param {string} question @param {string | undefined} sessionUuid @param {string} answer */
  const turn = async (question, sessionUuid, answer) => {
    await api.script({ text: answer, delayMs: 150 });
    const { status, body } = await api.ask(question, sessionUuid);
    assert.equal(status, 200, JSON.stringify(body));
    return body;
  };
  const first = await turn(
    "How does a humanoid keep its balance when it walks?",
    undefined,
    "It keeps its zero moment point inside the support polygon of its feet, and moves its hips and ankles to bring it back when a step pushes it out.",
  );
  const second = await turn(
    `Would an ${WORD} change how the <i>ZMP</i> is computed?`,
    first.session_uuid,
    "Only through the masses and inertias it adds: the ZMP equations stay the same, with the suit's links among the robot's.",
  );
  const third = await turn(
    "And on stairs?",
    first.session_uuid,
    "On stairs the support polygon shrinks to one foot for longer, so the controller plans a slower shift of the centre of mass.",
  );
  const other = await turn(
    "What does a torque sensor in the ankle measure?",
    undefined,
    "The moment about the ankle joint, from which the controller estimates where the centre of pressure lies.",
  );
  const slip = await turn(
    "Can it also sense slipping?",
    other.session_uuid,
    "Indirectly: a sudden drop of the friction torque.",
  );

  // The model fails before it writes anything: the question stays without an answer.
  await api.script({ status: 500 });
  // A question that opens with a path, no space in it: its session's title must wrap rather than
  // widen the table.
  const failed = await api.ask(`${LONG_PATH} makes my robot fall over. Why?`, undefined);
  assert.equal(failed.status, 502, JSON.stringify(failed.body));
  await api.script({});

  await api.rate(first.session_uuid, first.bot_message.id, { rating: "up" });
  await api.rate(other.session_uuid, other.bot_message.id, { rating: "up", comment: "Clear." });
  await api.rate(other.session_uuid, slip.bot_message.id, { rating: "down", comment: "Not sure that is right." });
  return {
    sessions: [first.session_uuid, other.session_uuid, failed.body.session_uuid],
    failed: failed.body.session_uuid,
    conversation: first.session_uuid,
    wordQuestionId: second.user_message.id,
    firstQuestionId: first.user_message.id,
    ratedUpAnswerId: first.bot_message.id,
    laterAnswerId: third.bot_message.id,
    ratedDownAnswerId: slip.bot_message.id,
  };
}

/** @jsxImportSource hono/jsx */
// Hono's JSX for the Worker's page. tsconfig.json names no import source: esbuild would apply it
// to the browser tests' React pages too.
import { Hono } from "hono";
import { raw } from "hono/html";
import { NONCE, secureHeaders } from "hono/secure-headers";
// Bundled from src/admin/page/ by scripts/admin-page.mjs (at install, before every wrangler build
// and in the tests' global setup); its text is sent inline, with the nonce.
import adminPageScript from "../admin/page-script.js.txt";
import { adminPageStyle } from "../admin/page-style";
import type { AppEnv } from "../context";
import { describeRoute } from "../openapi/declarations";
import { headers } from "../openapi/headers";

/**
 * The page's policy: nothing from any origin but this one, which it only calls (the admin API);
 * its one script and one stylesheet are inline, allowed by the request's nonce; no style
 * attributes, no plugins, no frames, no forms sent anywhere, and no string reaches an HTML sink
 * (Trusted Types: the script builds every element itself, matches of a search included).
 */
const pageHeaders = secureHeaders({
  contentSecurityPolicy: {
    defaultSrc: ["'none'"],
    scriptSrc: [NONCE],
    styleSrc: [NONCE],
    connectSrc: ["'self'"],
    imgSrc: ["'self'"],
    baseUri: ["'none'"],
    formAction: ["'none'"],
    frameAncestors: ["'none'"],
    requireTrustedTypesFor: ["'script'"],
    trustedTypes: ["'none'"],
  },
});

function AdminPage({ nonce }: { nonce: string }) {
  return (
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <meta name="robots" content="noindex" />
        <title>Chat history — operators</title>
        <style nonce={nonce}>{raw(adminPageStyle)}</style>
      </head>
      <body>
        <header>
          <h1>Chat history — operators</h1>
          <button type="button" id="logout" class="secondary" hidden>
            Log out
          </button>
        </header>
        <section id="login" aria-labelledby="login-title">
          <h2 id="login-title">Sign in</h2>
          <p class="muted">
            The admin token (ADMIN_TOKEN) opens every conversation. It is kept in this tab only, until you log out or
            close it: a link opened in a new tab asks for it again, then shows what it links to.
          </p>
          <form id="login-form" class="row">
            <label>
              Admin token
              <input type="password" id="token" name="token" autocomplete="off" required />
            </label>
            <button type="submit">Open</button>
          </form>
          <p id="login-next" class="muted"></p>
          <p id="login-error" class="alert" role="alert"></p>
          <noscript>
            <p>This page needs JavaScript: it reads the admin API with your token.</p>
          </noscript>
        </section>
        <main id="dashboard" hidden>
          {/* Real links to each view's address (src/admin/page/address.ts): they open in a new tab too. */}
          <nav class="views" aria-label="Views">
            <a id="nav-stats" href="#/stats">
              Activity
            </a>
            <a id="nav-sessions" href="#/sessions">
              Sessions
            </a>
            <a id="nav-search" href="#/search">
              Search
            </a>
            <a id="nav-gaps" href="#/gaps">
              Content gaps
            </a>
            <a id="nav-rated-down" href="#/rated-down">
              Rated down
            </a>
            <a id="nav-frequent" href="#/frequent">
              Frequent questions
            </a>
            <a id="nav-sources" href="#/sources">
              Sources
            </a>
          </nav>
          <p id="error" class="alert" role="alert"></p>
          <section id="stats" aria-labelledby="stats-title">
            <h2 id="stats-title">Activity</h2>
            <form id="stats-form" class="row">
              <label>
                Range
                <select id="stats-range" name="range">
                  <option value="7d">Last 7 days</option>
                  <option value="30d" selected>
                    Last 30 days
                  </option>
                  <option value="90d">Last 90 days</option>
                  <option value="48h">Last 48 hours, by hour</option>
                </select>
              </label>
              <button type="submit">Show</button>
            </form>
            <p id="stats-range-label" class="muted"></p>
            <div id="tiles" class="tiles"></div>
            <div id="charts" class="charts"></div>
            <h3>Most cited sources</h3>
            <ol id="top-sources" class="sources"></ol>
          </section>
          <section id="sessions" aria-labelledby="sessions-title">
            <h2 id="sessions-title">Sessions</h2>
            <form id="sessions-form" class="row">
              <label>
                Active from
                <input type="date" name="from" />
              </label>
              <label>
                Active before
                <input type="date" name="to" />
              </label>
              <label>
                At least messages
                <input type="number" name="min_messages" min="0" value="0" />
              </label>
              <label class="check">
                <input type="checkbox" name="has_failures" value="true" /> Failed or incomplete answers
              </label>
              <label class="check">
                <input type="checkbox" name="has_negative_feedback" value="true" /> Rated down
              </label>
              <label>
                Reader reference
                <input
                  type="text"
                  id="sessions-reader"
                  name="reader"
                  size={36}
                  spellcheck={false}
                  autocomplete="off"
                  pattern="[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"
                  title="A reader's reference: a UUID, as shown in the Reader column"
                />
              </label>
              <button type="submit">Filter</button>
              <button type="button" id="sessions-csv" class="secondary" title="Every session the filter finds, as CSV">
                Download CSV
              </button>
            </form>
            <div class="scroll">
              <table class="sessions">
                <thead>
                  <tr>
                    <th>First question</th>
                    <th>Last activity</th>
                    <th>Reader</th>
                    <th class="number">Messages</th>
                    <th class="number">Unanswered</th>
                    <th class="number">Incomplete</th>
                    <th class="number">Up</th>
                    <th class="number">Down</th>
                  </tr>
                </thead>
                <tbody id="session-rows"></tbody>
              </table>
            </div>
            <p id="sessions-empty" class="muted" hidden>
              No session matches.
            </p>
            <button type="button" id="sessions-more" class="secondary" hidden>
              More sessions
            </button>
          </section>
          <section id="search" aria-labelledby="search-title">
            <h2 id="search-title">Search the messages</h2>
            <form id="search-form" class="row">
              <label>
                Words, "a phrase", or, -not
                <input type="search" id="search-q" name="q" maxlength={500} required />
              </label>
              <label>
                In
                <select id="search-sender" name="sender">
                  <option value="" selected>
                    Questions and answers
                  </option>
                  <option value="user">Questions</option>
                  <option value="bot">Answers</option>
                </select>
              </label>
              <button type="submit">Search</button>
              <button type="button" id="hits-csv" class="secondary" title="Every hit of the search, as CSV">
                Download CSV
              </button>
            </form>
            <ul id="hits" class="hits"></ul>
            <p id="hits-empty" class="muted" hidden>
              No message matches.
            </p>
            <button type="button" id="hits-more" class="secondary" hidden>
              More hits
            </button>
          </section>
          <section id="gaps" aria-labelledby="gaps-title" hidden>
            <h2 id="gaps-title">Content gaps</h2>
            <p class="muted">
              Questions whose retrieval found no passage, or none scoring 0.5 (Qdrant's similarity); the same question
              asked again is one row. Answers without retrieval (echo, cut short, imported) are left out.
            </p>
            <form id="gaps-form" class="row">
              <label>
                Answered from
                <input type="date" name="from" />
              </label>
              <label>
                Answered before
                <input type="date" name="to" />
              </label>
              <label>
                Best score under
                <input type="number" name="below" min="0.01" max="0.5" step="0.01" placeholder="0.5" />
              </label>
              <button type="submit">Show</button>
              <button type="button" id="gaps-csv" class="secondary" title="Every question of the period, as CSV">
                Download CSV
              </button>
            </form>
            <p class="muted">Default: the last 30 days; at most 92 days.</p>
            <p id="gaps-counted" class="muted"></p>
            <ul id="gap-rows" class="hits findings"></ul>
            <p id="gaps-empty" class="muted" hidden>
              No content gap in this period.
            </p>
            <button type="button" id="gaps-more" class="secondary" hidden>
              More questions
            </button>
          </section>
          <section id="rated-down" aria-labelledby="rated-down-title" hidden>
            <h2 id="rated-down-title">Answers rated down</h2>
            <form id="rated-down-form" class="row">
              <label>
                Rated from
                <input type="date" name="from" />
              </label>
              <label>
                Rated before
                <input type="date" name="to" />
              </label>
              <button type="submit">Show</button>
              <button
                type="button"
                id="rated-down-csv"
                class="secondary"
                title="Every answer rated down in the range, as CSV"
              >
                Download CSV
              </button>
            </form>
            <ul id="rated-down-rows" class="hits findings"></ul>
            <p id="rated-down-empty" class="muted" hidden>
              No answer was rated down in this period.
            </p>
            <button type="button" id="rated-down-more" class="secondary" hidden>
              More answers
            </button>
          </section>
          <section id="frequent" aria-labelledby="frequent-title" hidden>
            <h2 id="frequent-title">Frequent questions</h2>
            <form id="frequent-form" class="row">
              <label>
                Period
                <select id="frequent-range" name="range">
                  <option value="7d">Last 7 days</option>
                  <option value="30d" selected>
                    Last 30 days
                  </option>
                  <option value="90d">Last 90 days</option>
                  <option value="365d">Last 365 days</option>
                </select>
              </label>
              <button type="submit">Show</button>
              <button type="button" id="frequent-csv" class="secondary" title="Every question of the period, as CSV">
                Download CSV
              </button>
            </form>
            <p class="muted">
              The same question up to case, punctuation and spacing; each opens the search for its words among the
              questions.
            </p>
            <ol id="frequent-rows" class="ranked"></ol>
            <p id="frequent-empty" class="muted" hidden>
              No question was asked in this period.
            </p>
            <button type="button" id="frequent-more" class="secondary" hidden>
              More questions
            </button>
          </section>
          <section id="sources" aria-labelledby="sources-title" hidden>
            <h2 id="sources-title">Sources</h2>
            <form id="sources-form" class="row">
              <label>
                Period
                <select id="sources-range" name="range">
                  <option value="7d">Last 7 days</option>
                  <option value="30d" selected>
                    Last 30 days
                  </option>
                  <option value="90d">Last 90 days</option>
                  <option value="365d">Last 365 days</option>
                </select>
              </label>
              <button type="submit">Show</button>
              <button type="button" id="sources-csv" class="secondary" title="Every source cited in the period, as CSV">
                Download CSV
              </button>
            </form>
            <h3>Cited, by the answers citing them</h3>
            <ol id="cited-rows" class="ranked"></ol>
            <p id="cited-empty" class="muted" hidden>
              No answer of this period cites a source.
            </p>
            <button type="button" id="cited-more" class="secondary" hidden>
              More sources
            </button>
            <h3>Passages never cited in this period</h3>
            <button
              type="button"
              id="uncited-csv"
              class="secondary"
              title="The passages never cited in the period, 40,000 points of the collection at a time, as CSV"
            >
              Download CSV
            </button>
            <p id="uncited-note" class="muted"></p>
            <ul id="uncited-rows" class="ranked"></ul>
            <p id="uncited-empty" class="muted" hidden>
              Every passage looked at so far is cited.
            </p>
            <button type="button" id="uncited-more" class="secondary" hidden>
              More passages
            </button>
          </section>
          <section id="conversation" aria-labelledby="conversation-title" hidden>
            <h2 id="conversation-title">Conversation</h2>
            <p id="conversation-summary" class="muted"></p>
            <div id="messages" class="messages"></div>
            <button type="button" id="messages-more" class="secondary" hidden>
              More messages
            </button>
          </section>
        </main>
        <script nonce={nonce}>{raw(adminPageScript)}</script>
      </body>
    </html>
  );
}

const getAdminPageDoc = describeRoute(() => ({
  operationId: "getAdminPage",
  tags: ["admin"],
  summary: "The operators' page: it asks for the admin token and reads the admin API with it",
  description: "Exists only while ADMIN_TOKEN is set. The page itself holds no data.",
  responses: {
    "200": {
      description: "An HTML page",
      headers: headers("Content-Security-Policy"),
      content: { "text/html": { schema: { type: "string" } } },
    },
  },
}));

export const adminPageRoutes = new Hono<AppEnv>().get("/", getAdminPageDoc, pageHeaders, (c) =>
  c.html(`<!doctype html>${AdminPage({ nonce: c.get("secureHeadersNonce") ?? "" })}`),
);

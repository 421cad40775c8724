/**
 * The operators' page's script: it runs in the browser, not in the Worker, and is sent inline
 * with the page's nonce. It keeps the admin token in sessionStorage (this tab only), reads the
 * admin API with it, and builds every element itself (createElement and textContent, SVG for the
 * charts): the page's Trusted Types policy refuses any HTML string, so text from a conversation
 * can never become markup. A search hit's snippet_html, whose only markup is <mark>, is split
 * into text and <mark> elements, never parsed as HTML.
 *
 * It is plain JavaScript in a string, so neither tsc nor Biome reads it: test/browser/admin.browser.mjs
 * drives it in Chromium. Written without template literals, so the string needs no escaping.
 */
export const adminPageScript = String.raw`
"use strict";
(() => {
  const tokenKey = "chat-history-admin-token";
  const svgNamespace = "http://www.w3.org/2000/svg";
  const byId = (id) => document.getElementById(id);
  const state = { sessionsCursor: null, sessionsFilter: {}, hitsCursor: null, query: "", conversation: null };

  class Unauthorized extends Error {}

  function element(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }

  function svg(tag, attributes) {
    const node = document.createElementNS(svgNamespace, tag);
    for (const [name, value] of Object.entries(attributes || {})) node.setAttribute(name, String(value));
    return node;
  }

  function clear(node) {
    while (node.firstChild) node.removeChild(node.firstChild);
  }

  const formatter = new Intl.NumberFormat("en");
  const number = (value) => (value === null || value === undefined ? "—" : formatter.format(value));

  function utc(iso, withTime) {
    const text = new Date(iso).toISOString();
    return withTime === false ? text.slice(0, 10) : text.slice(0, 16).replace("T", " ") + " UTC";
  }

  async function api(path, parameters) {
    const url = new URL(path, location.origin);
    for (const [name, value] of Object.entries(parameters || {})) {
      if (value !== undefined && value !== null && value !== "") url.searchParams.set(name, String(value));
    }
    const response = await fetch(url, {
      headers: { Authorization: "Bearer " + (sessionStorage.getItem(tokenKey) || ""), Accept: "application/json" },
      cache: "no-store",
    });
    const body = await response.json().catch(() => null);
    if (response.status === 401) throw new Unauthorized(body && body.detail ? body.detail : "unauthorized");
    if (!response.ok) throw new Error(body && body.detail ? body.detail : "HTTP " + response.status);
    return body;
  }

  function showLogin(message) {
    sessionStorage.removeItem(tokenKey);
    byId("dashboard").hidden = true;
    byId("logout").hidden = true;
    byId("login").hidden = false;
    byId("login-error").textContent = message || "";
    for (const id of ["tiles", "charts", "top-sources", "session-rows", "hits", "messages"]) clear(byId(id));
    byId("conversation").hidden = true;
    byId("token").focus();
  }

  /** Runs an action of the page; a refused token sends the reader back to the sign-in form. */
  async function attempt(action) {
    byId("error").textContent = "";
    try {
      await action();
    } catch (error) {
      if (error instanceof Unauthorized) showLogin("The token was refused. Sign in again.");
      else byId("error").textContent = "Could not load: " + error.message;
    }
  }

  // Statistics and charts.

  const day = 86400000;

  function statsRange(choice) {
    if (choice === "48h") return { bucket: "hour" };
    const to = Math.floor(Date.now() / day) * day + day;
    const days = Number(choice.replace("d", ""));
    return { bucket: "day", from: new Date(to - days * day).toISOString(), to: new Date(to).toISOString() };
  }

  async function loadStats() {
    const stats = await api("/api/admin/stats", statsRange(byId("stats-range").value));
    renderStats(stats);
  }

  function tile(id, label, value) {
    const box = element("div", "tile");
    const shown = element("span", "value", number(value));
    shown.id = id;
    box.append(shown, element("span", "label", label));
    return box;
  }

  function renderStats(stats) {
    const t = stats.totals;
    byId("stats-range-label").textContent =
      "From " + utc(stats.from) + " to " + utc(stats.to) + ", by " + stats.bucket + " (UTC).";
    const tiles = byId("tiles");
    clear(tiles);
    tiles.append(
      tile("total-sessions", "new sessions", t.sessions),
      tile("total-questions", "questions", t.questions),
      tile("total-readers", "signed-in readers", t.readers),
      tile("total-complete", "complete answers", t.answers.complete),
      tile("total-incomplete", "incomplete answers", t.answers.incomplete),
      tile("total-unanswered", "unanswered questions", t.failures.unanswered),
      tile("total-up", "rated up", t.ratings.up),
      tile("total-down", "rated down", t.ratings.down),
      tile("total-latency-p95", "p95 latency, ms", t.latency_ms.p95),
      tile("total-tokens", "tokens", t.tokens.total),
      tile("total-imported-sessions", "imported sessions", t.imported_sessions),
      tile("total-imported", "imported messages", t.imported_messages),
    );
    const charts = byId("charts");
    clear(charts);
    const buckets = stats.buckets;
    const per = stats.bucket === "day" ? "day" : "hour";
    charts.append(
      barChart("chart-questions", "Questions per " + per, buckets, [
        { key: "questions", label: "questions", value: (b) => b.questions },
      ]),
      barChart("chart-readers", "Signed-in readers who asked, per " + per, buckets, [
        { key: "readers", label: "readers", value: (b) => b.readers },
      ]),
      barChart("chart-failures", "Failed and incomplete answers per " + per, buckets, [
        { key: "unanswered", label: "unanswered", value: (b) => b.failures.unanswered },
        { key: "incomplete", label: "incomplete", value: (b) => b.answers.incomplete },
      ]),
      lineChart("chart-latency", "p95 answer latency (ms) per " + per, buckets, (b) => b.latency_ms.p95),
      barChart("chart-ratings", "Ratings per " + per, buckets, [
        { key: "up", label: "up", value: (b) => b.ratings.up },
        { key: "down", label: "down", value: (b) => b.ratings.down },
      ]),
    );
    const sources = byId("top-sources");
    clear(sources);
    for (const source of stats.top_sources) {
      const item = element("li");
      item.append(sourceLink(source.title, source.url), " ", element("span", "muted", "(" + number(source.answers) + " answers)"));
      sources.append(item);
    }
    if (stats.top_sources.length === 0) sources.append(element("li", "muted", "No answer cites a source in this range."));
  }

  const chartWidth = 400;
  const chartHeight = 170;
  const plot = { left: 40, right: 6, top: 12, bottom: 24 };

  function chartFrame(id, title, series, buckets, max) {
    const figure = element("figure");
    figure.id = id;
    const caption = element("figcaption", null, title);
    figure.append(caption);
    if (series.length > 1) {
      const legend = element("div", "legend");
      for (const s of series) legend.append(element("span", s.key, s.label));
      figure.append(legend);
    }
    const drawing = svg("svg", {
      viewBox: "0 0 " + chartWidth + " " + chartHeight,
      role: "img",
      "aria-label": title,
    });
    const bottom = chartHeight - plot.bottom;
    drawing.append(
      svg("line", { class: "axis", x1: plot.left, x2: chartWidth - plot.right, y1: bottom, y2: bottom }),
      label(plot.left - 4, plot.top + 10, number(max), "end"),
      label(plot.left - 4, bottom, "0", "end"),
    );
    if (buckets.length > 0) {
      const short = (b) => (b.start.slice(11, 16) === "00:00" ? b.start.slice(5, 10) : b.start.slice(5, 16).replace("T", " "));
      drawing.append(
        label(plot.left, chartHeight - 6, short(buckets[0]), "start"),
        label(chartWidth - plot.right, chartHeight - 6, short(buckets[buckets.length - 1]), "end"),
      );
    }
    figure.append(drawing);
    return { figure, drawing };
  }

  function label(x, y, text, anchor) {
    const node = svg("text", { x, y, "text-anchor": anchor });
    node.textContent = text;
    return node;
  }

  function scaleMax(values) {
    const max = Math.max(0, ...values.filter((v) => v !== null));
    return max === 0 ? 1 : max;
  }

  /** Stacked bars, one stack per bucket; every bar says its bucket and value in a tooltip. */
  function barChart(id, title, buckets, series) {
    const totals = buckets.map((b) => series.reduce((sum, s) => sum + s.value(b), 0));
    const max = scaleMax(totals);
    const { figure, drawing } = chartFrame(id, title, series, buckets, max);
    const width = (chartWidth - plot.left - plot.right) / Math.max(buckets.length, 1);
    const height = chartHeight - plot.top - plot.bottom;
    buckets.forEach((b, i) => {
      let base = chartHeight - plot.bottom;
      for (const s of series) {
        const value = s.value(b);
        if (value <= 0) continue;
        const barHeight = (value / max) * height;
        base -= barHeight;
        const bar = svg("rect", {
          class: s.key,
          x: plot.left + i * width + width * 0.1,
          y: base,
          width: Math.max(width * 0.8, 0.5),
          height: barHeight,
          "data-series": s.key,
          "data-value": value,
        });
        const tip = svg("title");
        tip.textContent = utc(b.start) + ": " + number(value) + " " + s.label;
        bar.append(tip);
        drawing.append(bar);
      }
    });
    return figure;
  }

  /** A line through the buckets that have a value, with a point on each. */
  function lineChart(id, title, buckets, value) {
    const values = buckets.map(value);
    const max = scaleMax(values);
    const { figure, drawing } = chartFrame(id, title, [], buckets, max);
    const width = (chartWidth - plot.left - plot.right) / Math.max(buckets.length, 1);
    const height = chartHeight - plot.top - plot.bottom;
    const points = [];
    values.forEach((v, i) => {
      if (v === null) return;
      const x = plot.left + i * width + width / 2;
      const y = chartHeight - plot.bottom - (v / max) * height;
      points.push(x.toFixed(1) + "," + y.toFixed(1));
      const dot = svg("circle", { class: "point", cx: x, cy: y, r: 2.5, "data-value": v });
      const tip = svg("title");
      tip.textContent = utc(buckets[i].start) + ": " + number(v) + " ms";
      dot.append(tip);
      drawing.append(dot);
    });
    if (points.length > 1) drawing.append(svg("polyline", { class: "latency", points: points.join(" ") }));
    if (points.length === 0) drawing.append(label(chartWidth / 2, chartHeight / 2, "no latency recorded", "middle"));
    return figure;
  }

  function sourceLink(title, url) {
    const text = title || url || "(untitled)";
    if (!url || !/^https?:\/\//i.test(url)) return element("span", null, text);
    const link = element("a", null, text);
    link.href = url;
    link.rel = "noopener noreferrer";
    link.target = "_blank";
    return link;
  }

  // Sessions.

  function sessionsFilter() {
    const form = new FormData(byId("sessions-form"));
    const filter = {};
    for (const [name, value] of form.entries()) if (value !== "") filter[name] = value;
    return filter;
  }

  async function loadSessions(more) {
    if (!more) {
      state.sessionsFilter = sessionsFilter();
      state.sessionsCursor = null;
      clear(byId("session-rows"));
    }
    const page = await api("/api/admin/sessions", Object.assign({ cursor: state.sessionsCursor }, state.sessionsFilter));
    const rows = byId("session-rows");
    for (const session of page.sessions) rows.append(sessionRow(session));
    state.sessionsCursor = page.next_cursor;
    byId("sessions-more").hidden = page.next_cursor === null;
    byId("sessions-empty").hidden = rows.childElementCount > 0;
  }

  /**
   * Who a session belongs to: "anonymous", or the first characters of its reader's opaque
   * reference (all of it in the title); choosing it lists that reader's sessions.
   */
  function readerCell(reference) {
    const cell = element("td", "reader");
    if (reference === null) {
      cell.append(element("span", "muted", "anonymous"));
      return cell;
    }
    const choose = element("button", "link", "reader " + reference.slice(0, 8));
    choose.type = "button";
    choose.title = reference;
    choose.addEventListener("click", () => {
      byId("sessions-reader").value = reference;
      void attempt(() => loadSessions(false));
    });
    cell.append(choose);
    return cell;
  }

  function sessionRow(session) {
    const row = element("tr");
    row.dataset.session = session.session_uuid;
    const open = element("button", "link", (session.title || "(no question)") + (session.imported ? " (imported)" : ""));
    open.type = "button";
    open.addEventListener("click", () => attempt(() => openConversation(session.session_uuid, null)));
    const first = element("td");
    first.append(open);
    row.append(
      first,
      element("td", null, utc(session.last_activity_at)),
      readerCell(session.reader),
      element("td", "number", number(session.message_count)),
      element("td", "number", number(session.unanswered_questions)),
      element("td", "number", number(session.incomplete_answers)),
      element("td", "number", number(session.ratings.up)),
      element("td", "number", number(session.ratings.down)),
    );
    return row;
  }

  // Search.

  /** snippet_html's only markup is <mark>; everything else in it is escaped text. */
  function snippet(html) {
    const container = element("p", "snippet");
    const entities = { "&amp;": "&", "&lt;": "<", "&gt;": ">", "&quot;": '"', "&#39;": "'" };
    const parts = html.split(/(<mark>|<\/mark>)/);
    let marked = false;
    for (const part of parts) {
      if (part === "<mark>") marked = true;
      else if (part === "</mark>") marked = false;
      else if (part) {
        const text = part.replace(/&(amp|lt|gt|quot|#39);/g, (entity) => entities[entity]);
        container.append(marked ? element("mark", null, text) : document.createTextNode(text));
      }
    }
    return container;
  }

  async function search(more) {
    if (!more) {
      state.query = byId("search-q").value;
      state.hitsCursor = null;
      clear(byId("hits"));
    }
    const page = await api("/api/admin/search", { q: state.query, cursor: state.hitsCursor });
    const hits = byId("hits");
    for (const hit of page.hits) {
      const item = element("li");
      item.dataset.message = hit.message_id;
      const open = element("button", "link", "Open the conversation");
      open.type = "button";
      open.addEventListener("click", () => attempt(() => openConversation(hit.session_uuid, hit.message_id)));
      const meta = element(
        "p",
        "muted",
        (hit.sender === "user" ? "Question" : "Answer") + " #" + hit.seq + " · " + utc(hit.timestamp) +
          " · session " + hit.session_uuid.slice(0, 8) + "… ",
      );
      meta.append(open);
      item.append(snippet(hit.snippet_html), meta);
      hits.append(item);
    }
    state.hitsCursor = page.next_cursor;
    byId("hits-more").hidden = page.next_cursor === null;
    byId("hits-empty").hidden = hits.childElementCount > 0;
  }

  // A conversation.

  async function openConversation(sessionUuid, focusId, more) {
    if (!more) {
      state.conversation = { uuid: sessionUuid, cursor: null };
      clear(byId("messages"));
    }
    const page = await api("/api/admin/sessions/" + encodeURIComponent(sessionUuid), {
      limit: 200,
      cursor: state.conversation.cursor,
    });
    const s = page.session;
    byId("conversation-title").textContent = "Conversation " + s.session_uuid;
    byId("conversation-summary").textContent =
      "Started " + utc(s.created_at) + " · last message " + (s.last_message_at ? utc(s.last_message_at) : "none") +
      " · " + number(s.message_count) + " messages · " + (s.reader === null ? "anonymous" : "reader " + s.reader);
    const list = byId("messages");
    for (const message of page.messages) list.append(messageView(message));
    state.conversation.cursor = page.next_cursor;
    byId("messages-more").hidden = page.next_cursor === null;
    byId("conversation").hidden = false;
    if (more) return;
    const focused = focusId === null ? null : list.querySelector('[data-message="' + Number(focusId) + '"]');
    if (focused) focused.classList.add("focused");
    (focused || byId("conversation")).scrollIntoView({ block: "start" });
  }

  function detail(list, term, value) {
    if (value === undefined || value === null || value === "") return;
    list.append(element("dt", null, term), element("dd", null, value));
  }

  function messageView(message) {
    const article = element("article", "message " + message.sender);
    article.dataset.message = message.id;
    const head = element("p", "muted");
    head.append((message.sender === "user" ? "Question" : "Answer") + " #" + message.seq + " · " + utc(message.timestamp) + " ");
    if (message.status === "incomplete") head.append(element("span", "badge incomplete", "incomplete"));
    article.append(head, element("div", "text", message.message));
    if (message.sender === "bot") {
      const facts = element("dl");
      const m = message.metadata || {};
      const usage = m.usage || {};
      detail(facts, "Model", m.model);
      detail(facts, "Latency", typeof m.latency_ms === "number" ? number(m.latency_ms) + " ms" : null);
      detail(
        facts,
        "Tokens",
        typeof usage.total_tokens === "number"
          ? number(usage.total_tokens) + " (prompt " + number(usage.prompt_tokens) + ", completion " + number(usage.completion_tokens) + ")"
          : null,
      );
      detail(facts, "Cut short", m.cut_short);
      detail(
        facts,
        "Retrieval",
        m.retrieval && typeof m.retrieval === "object"
          ? number(m.retrieval.passages) + " passages from " + m.retrieval.collection
          : m.retrieval,
      );
      const feedback = element("dd", "feedback");
      if (message.feedback) {
        feedback.append(
          element("span", "badge " + message.feedback.rating, message.feedback.rating === "up" ? "rated up" : "rated down"),
          " " + utc(message.feedback.updated_at) + (message.feedback.comment ? " · " : ""),
        );
        if (message.feedback.comment) feedback.append(element("q", null, message.feedback.comment));
      } else {
        feedback.textContent = "none";
      }
      facts.append(element("dt", null, "Feedback"), feedback);
      article.append(facts);
      if (message.sources.length > 0) {
        const sources = element("ol", "sources");
        for (const source of message.sources) {
          const item = element("li");
          item.append(sourceLink(source.title, source.url), element("span", "muted", " score " + Number(source.score).toFixed(3)));
          if (source.snippet) item.append(element("div", "muted", source.snippet));
          sources.append(item);
        }
        article.append(element("h3", null, "Sources"), sources);
      }
      const raw = element("details");
      raw.append(element("summary", "muted", "Stored metadata"), element("pre", null, JSON.stringify(message.metadata, null, 2)));
      article.append(raw);
    }
    return article;
  }

  // Wiring.

  async function start() {
    byId("login").hidden = true;
    byId("dashboard").hidden = false;
    byId("logout").hidden = false;
    await attempt(loadStats);
    if (byId("dashboard").hidden) return;
    await attempt(() => loadSessions(false));
  }

  byId("login-form").addEventListener("submit", (event) => {
    event.preventDefault();
    const token = byId("token").value.trim();
    if (!token) return;
    sessionStorage.setItem(tokenKey, token);
    byId("token").value = "";
    byId("login-error").textContent = "";
    void start();
  });
  byId("logout").addEventListener("click", () => showLogin("Logged out."));
  const onSubmit = (id, action) =>
    byId(id).addEventListener("submit", (event) => {
      event.preventDefault();
      void attempt(action);
    });
  onSubmit("stats-form", loadStats);
  onSubmit("sessions-form", () => loadSessions(false));
  onSubmit("search-form", () => search(false));
  byId("sessions-more").addEventListener("click", () => attempt(() => loadSessions(true)));
  byId("hits-more").addEventListener("click", () => attempt(() => search(true)));
  byId("messages-more").addEventListener("click", () =>
    attempt(() => openConversation(state.conversation.uuid, null, true)),
  );
  byId("conversation-close").addEventListener("click", () => {
    byId("conversation").hidden = true;
    clear(byId("messages"));
  });

  if (sessionStorage.getItem(tokenKey)) void start();
  else byId("token").focus();
})();
`;

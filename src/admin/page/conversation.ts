/** One conversation, as an operator reads it: every message with its sources, metadata and feedback. */
import { addressOf } from "./address";
import { type AdminMessage, readConversation } from "./api";
import { byId, clear, element, sourceLink } from "./dom";
import { number, utc } from "./format";

/** A conversation open on the page, and where its next page starts. */
type Opened = { sessionUuid: string; cursor: string | null };

/** The conversation shown; null while none is open. */
let shown: Opened | null = null;

/**
 * A linked message deep in a long conversation is read up to, a page at a time, but no further
 * than this: a link to a message that is not there must not read a whole conversation.
 */
const pagesToFindAMessage = 10;

/** Shows a conversation from its start; focusId names the message to scroll to, if any. */
export async function openConversation(sessionUuid: string, focusId: number | null): Promise<void> {
  const opened: Opened = { sessionUuid, cursor: null };
  shown = opened;
  const list = byId("messages");
  clear(list);
  const find = () => (focusId === null ? null : list.querySelector(`[data-message="${focusId}"]`));
  for (let page = 0; page < pagesToFindAMessage; page++) {
    // Another view or conversation was chosen while this page was on its way: leave it be.
    if (!(await showPage(opened))) return;
    if (focusId === null || find() || opened.cursor === null) break;
  }
  const focused = find();
  if (focused) focused.classList.add("focused");
  (focused ?? byId("conversation")).scrollIntoView({ block: "start" });
}

export async function moreMessages(): Promise<void> {
  if (shown) await showPage(shown);
}

/** Reads the conversation's next page and shows it; false if another was opened meanwhile. */
async function showPage(conversation: Opened): Promise<boolean> {
  const page = await readConversation(conversation.sessionUuid, conversation.cursor);
  if (conversation !== shown) return false;
  const s = page.session;
  byId("conversation-title").textContent = `Conversation ${s.session_uuid}`;
  byId("conversation-summary").textContent =
    `Started ${utc(s.created_at)} · last message ${s.last_message_at ? utc(s.last_message_at) : "none"} · ` +
    `${number(s.message_count)} messages · ${s.reader === null ? "anonymous" : `reader ${s.reader}`}`;
  const list = byId("messages");
  for (const message of page.messages) list.append(messageView(s.session_uuid, message));
  conversation.cursor = page.next_cursor;
  byId("messages-more").hidden = page.next_cursor === null;
  return true;
}

function detail(list: HTMLElement, term: string, value: unknown): void {
  if (value === undefined || value === null || value === "") return;
  list.append(element("dt", null, term), element("dd", null, String(value)));
}

/** A field of stored metadata that should hold an object; the service writes it, but never checks it on read. */
function fields(value: unknown): Record<string, unknown> {
  return typeof value === "object" && value !== null ? (value as Record<string, unknown>) : {};
}

function messageView(sessionUuid: string, message: AdminMessage): HTMLElement {
  const article = element("article", `message ${message.sender}`);
  article.dataset.message = String(message.id);
  const head = element("p", "muted");
  // The message's own address, to send to a colleague: the conversation opens on it.
  const here = element("a", "permalink", `${message.sender === "user" ? "Question" : "Answer"} #${message.seq}`);
  here.href = addressOf({ view: "conversation", sessionUuid, messageId: message.id });
  head.append(here, ` · ${utc(message.timestamp)} `);
  if (message.status === "incomplete") head.append(element("span", "badge incomplete", "incomplete"));
  article.append(head, element("div", "text", message.message));
  if (message.sender === "bot") article.append(...answerDetails(message));
  return article;
}

/** What the service kept about an answer: model, latency, tokens, retrieval, feedback, sources. */
function answerDetails(message: AdminMessage): HTMLElement[] {
  const facts = element("dl");
  const m = fields(message.metadata);
  const usage = fields(m.usage);
  const retrieval = m.retrieval;
  detail(facts, "Model", m.model);
  detail(facts, "Latency", typeof m.latency_ms === "number" ? `${number(m.latency_ms)} ms` : null);
  detail(
    facts,
    "Tokens",
    typeof usage.total_tokens === "number"
      ? `${number(usage.total_tokens)} (prompt ${number(usage.prompt_tokens)}, completion ${number(usage.completion_tokens)})`
      : null,
  );
  detail(facts, "Cut short", m.cut_short);
  detail(
    facts,
    "Retrieval",
    retrieval && typeof retrieval === "object"
      ? `${number(fields(retrieval).passages)} passages from ${fields(retrieval).collection}`
      : retrieval,
  );
  const feedback = element("dd", "feedback");
  if (message.feedback) {
    const { rating, comment, updated_at } = message.feedback;
    feedback.append(
      element("span", `badge ${rating}`, rating === "up" ? "rated up" : "rated down"),
      ` ${utc(updated_at)}${comment ? " · " : ""}`,
    );
    if (comment) feedback.append(element("q", null, comment));
  } else {
    feedback.textContent = "none";
  }
  facts.append(element("dt", null, "Feedback"), feedback);
  const details: HTMLElement[] = [facts];
  if (message.sources.length > 0) {
    const sources = element("ol", "sources");
    for (const source of message.sources) {
      const item = element("li");
      item.append(sourceLink(source.title, source.url), element("span", "muted", ` score ${source.score.toFixed(3)}`));
      if (source.snippet) item.append(element("div", "muted", source.snippet));
      sources.append(item);
    }
    details.push(element("h3", null, "Sources"), sources);
  }
  const raw = element("details");
  raw.append(
    element("summary", "muted", "Stored metadata"),
    element("pre", null, JSON.stringify(message.metadata, null, 2)),
  );
  details.push(raw);
  return details;
}

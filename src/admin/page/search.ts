/** The search section: hits with their matches marked, each opening its conversation on that message. */
import { addressOf } from "./address";
import { type SearchHit, searchMessages } from "./api";
import { byId, element } from "./dom";
import { utc } from "./format";
import { pagedList } from "./paged-list";

/** The scope control's value, as the API takes it; an unknown value (none the markup offers) searches both. */
function chosenSender(): "" | "user" | "bot" {
  const value = byId("search-sender", HTMLSelectElement).value;
  return value === "user" || value === "bot" ? value : "";
}

/** The snippet's text as text nodes, each highlight in a <mark>: nothing in it is read as HTML. */
function snippetView({ text, highlights }: SearchHit["snippet"]): HTMLElement {
  const container = element("p", "snippet");
  let shownUpTo = 0;
  for (const [start, end] of highlights) {
    if (start > shownUpTo) container.append(text.slice(shownUpTo, start));
    container.append(element("mark", null, text.slice(start, end)));
    shownUpTo = end;
  }
  if (shownUpTo < text.length) container.append(text.slice(shownUpTo));
  return container;
}

function hitView(hit: SearchHit): HTMLElement {
  const item = element("li");
  item.dataset.message = String(hit.message_id);
  const open = element("a", null, "Open the conversation");
  open.href = addressOf({ view: "conversation", sessionUuid: hit.session_uuid, messageId: hit.message_id });
  const meta = element(
    "p",
    "muted",
    `${hit.sender === "user" ? "Question" : "Answer"} #${hit.seq} · ${utc(hit.timestamp)} · ` +
      `session ${hit.session_uuid.slice(0, 8)}… `,
  );
  meta.append(open);
  item.append(snippetView(hit.snippet), meta);
  return item;
}

/** The first page of the form's query, or (more) the next page of the hits shown. */
export const search = pagedList({
  ids: { rows: "hits", more: "hits-more", empty: "hits-empty" },
  addressedAs: "search",
  query: () => ({ q: byId("search-q", HTMLInputElement).value, sender: chosenSender() }),
  read: async (query, cursor) => {
    const page = await searchMessages(query, cursor);
    return { items: page.hits, nextCursor: page.next_cursor };
  },
  view: hitView,
});

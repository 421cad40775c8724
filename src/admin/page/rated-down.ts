/** The Rated down section: answers readers rated down, with the comment, the question, the passages and a link. */
import { addressOf } from "./address";
import { listRatedDown, type RatedDownAnswer } from "./api";
import { element, formFields, sourceLink } from "./dom";
import { utc } from "./format";
import { pagedList } from "./paged-list";

function passagesView(sources: RatedDownAnswer["sources"]): HTMLElement {
  if (sources.length === 0) return element("p", "muted", "It cited no passage.");
  const list = element("ol", "sources");
  for (const source of sources) {
    const item = element("li");
    item.append(sourceLink(source.title, source.url), ` · score ${source.score.toFixed(2)}`);
    list.append(item);
  }
  return list;
}

function ratedDownView(rated: RatedDownAnswer): HTMLElement {
  const item = element("li");
  item.dataset.message = String(rated.answer_id);
  const comment = rated.comment ? element("p", "comment", rated.comment) : element("p", "muted", "No comment.");
  const answer = element("details");
  answer.append(element("summary", null, "The answer"), element("p", "answer", rated.answer));
  const open = element("a", null, "Open the conversation");
  open.href = addressOf({ view: "conversation", sessionUuid: rated.session_uuid, messageId: rated.answer_id });
  const meta = element(
    "p",
    "muted",
    `Rated down ${utc(rated.rated_at)}${rated.imported ? " (imported)" : ""} · session ${rated.session_uuid.slice(0, 8)}… · `,
  );
  meta.append(open);
  item.append(element("p", "question", rated.question), comment, answer, passagesView(rated.sources), meta);
  return item;
}

/** The first page of the form's period, or (more) the next page of the answers shown. */
export const loadRatedDown = pagedList({
  addressedAs: "rated-down",
  ids: { rows: "rated-down-rows", more: "rated-down-more", empty: "rated-down-empty" },
  query: () => formFields("rated-down-form"),
  read: async (filter, cursor) => {
    const page = await listRatedDown(filter, cursor);
    return { items: page.answers, nextCursor: page.next_cursor };
  },
  view: ratedDownView,
});

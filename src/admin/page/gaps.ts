/** The Content gaps section: questions the book answered from no passage or weak ones, each opening its newest answer. */
import { addressOf } from "./address";
import { type ContentGap, listContentGaps } from "./api";
import { byId, element, formFields } from "./dom";
import { number, utc } from "./format";
import { pagedList } from "./paged-list";

/** A best score as the page writes it: two decimals, or that no passage was cited. */
function scoreText(score: number | null): string {
  return score === null ? "no passage" : `best score ${score.toFixed(2)}`;
}

function gapView(gap: ContentGap): HTMLElement {
  const item = element("li");
  item.dataset.message = String(gap.answer_id);
  const open = element("a", null, "Open the newest answer");
  open.href = addressOf({ view: "conversation", sessionUuid: gap.session_uuid, messageId: gap.answer_id });
  const meta = element(
    "p",
    "muted",
    `Asked ${number(gap.asked)} time${gap.asked === 1 ? "" : "s"} · ${scoreText(gap.best_score)} · last ${utc(gap.last_asked_at)} · `,
  );
  meta.append(open);
  item.append(element("p", "question", gap.question), meta);
  return item;
}

/** The first page of the form's period, or (more) the next page of the gaps shown. */
export const loadContentGaps = pagedList({
  addressedAs: "gaps",
  ids: { rows: "gap-rows", more: "gaps-more", empty: "gaps-empty" },
  query: () => formFields("gaps-form"),
  read: async (filter, cursor) => {
    const page = await listContentGaps(filter, cursor);
    // A period of more gaps than the API counts: its counts start later than the period.
    byId("gaps-counted").textContent =
      page.counted_from === page.from
        ? `${utc(page.from)} to ${utc(page.to)}.`
        : `${utc(page.from)} to ${utc(page.to)}; too many gaps to count them all: the counts start at ${utc(page.counted_from)}.`;
    return { items: page.gaps, nextCursor: page.next_cursor };
  },
  view: gapView,
});

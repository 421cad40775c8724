/** The Frequent questions section: the period's questions, most asked first, each linked to its search. */
import { addressOf } from "./address";
import { type FrequentQuestion, listFrequentQuestions } from "./api";
import { byId, element } from "./dom";
import { number } from "./format";
import { pagedList } from "./paged-list";
import { periodOf } from "./period";

/** The search takes at most 500 characters; a longer question is searched by its first words. */
const maxSearchLength = 500;

/** A percentage to a tenth, from the API's share (a thousandth). */
function percent(share: number): string {
  return `${Math.round(share * 1000) / 10} %`;
}

/**
 * The question's words searched among the questions (#/search, sender=user). The normalized
 * question, not an example wording: it holds no quotes or minus signs for the search to read
 * as a phrase or a "not".
 */
function searchAddress(question: string): string {
  const characters = [...question];
  // Cut, it ends before its last (perhaps partial) word.
  const words =
    characters.length > maxSearchLength
      ? characters
          .slice(0, maxSearchLength)
          .join("")
          .replace(/\s+\S*$/, "")
      : question;
  return addressOf({ view: "search", fields: { q: words, sender: "user" } });
}

function questionView(question: FrequentQuestion): HTMLElement {
  const search = element("a", null, question.example);
  search.href = searchAddress(question.question);
  search.title = "Search for it among the questions";
  const wording = element("p");
  wording.append(search);
  const figures = element(
    "p",
    "muted",
    `asked ${number(question.asked)} × · rated up ${number(question.ratings.up)} (${percent(question.rated_up_share)})` +
      ` · rated down ${number(question.ratings.down)} (${percent(question.rated_down_share)})`,
  );
  const item = element("li");
  item.append(wording, figures);
  return item;
}

/** The first page of the chosen period's questions, or (more) the next page of the list shown. */
export const loadFrequentQuestions = pagedList({
  addressedAs: "frequent",
  ids: { rows: "frequent-rows", more: "frequent-more", empty: "frequent-empty" },
  query: () => periodOf(byId("frequent-range", HTMLSelectElement).value),
  read: async (period, cursor) => {
    const page = await listFrequentQuestions(period, cursor);
    return { items: page.questions, nextCursor: page.next_cursor };
  },
  view: questionView,
});

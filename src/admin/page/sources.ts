/**
 * The Sources section: how many answers of the period cite each source, most cited first, and
 * the passages of the collection never cited in it, 1,000 points of the collection at a time.
 */
import { type CitedSource, listCitedSources, listUncitedPassages, type UncitedPassage } from "./api";
import { byId, element, sourceLink } from "./dom";
import { number } from "./format";
import { pagedList } from "./paged-list";
import { periodOf } from "./period";

function sourceView(source: CitedSource): HTMLElement {
  const item = element("li");
  item.append(sourceLink(source.title, source.url), element("span", "muted", ` — ${number(source.answers)} answers`));
  return item;
}

function passageView(passage: UncitedPassage): HTMLElement {
  const item = element("li");
  item.append(sourceLink(passage.title, passage.url), element("span", "muted", ` — point ${passage.id}`));
  return item;
}

const chosenPeriod = () => periodOf(byId("sources-range", HTMLSelectElement).value);

/** The first page of the chosen period's sources, or (more) the next page of the list shown. */
export const loadCitedSources = pagedList({
  addressedAs: "sources",
  ids: { rows: "cited-rows", more: "cited-more", empty: "cited-empty" },
  query: chosenPeriod,
  read: async (period, cursor) => {
    const page = await listCitedSources(period, cursor);
    return { items: page.sources, nextCursor: page.next_cursor };
  },
  view: sourceView,
});

/**
 * The collection's passages never cited in the chosen period, from its first point, or (more) from
 * where the list shown stopped. A page of the collection may hold none: the note says how far the
 * list has looked.
 */
export const loadUncitedPassages = pagedList({
  addressedAs: "sources",
  pagesField: "passage_pages",
  ids: { rows: "uncited-rows", more: "uncited-more", empty: "uncited-empty" },
  query: () => ({ period: chosenPeriod(), lookedAt: { points: 0 } }),
  read: async (query, cursor) => {
    const page = await listUncitedPassages(query.period, cursor);
    query.lookedAt.points += page.looked_at;
    byId("uncited-note").textContent =
      page.collection === null
        ? "No Qdrant collection is configured: the passages cannot be listed."
        : `Looked at the first ${number(query.lookedAt.points)} passages of ${page.collection}` +
          (page.next_cursor === null ? ", all of it." : "; “More passages” looks at the next 1,000.");
    return { items: page.passages, nextCursor: page.next_cursor };
  },
  view: passageView,
});

/** Both lists of the section, for the period chosen. */
export async function loadSources(): Promise<void> {
  await Promise.all([loadCitedSources(false), loadUncitedPassages(false)]);
}

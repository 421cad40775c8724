/** A list the page shows a page at a time: the sessions, the search's hits. */
import { byId, clear } from "./dom";

type PagedList<Query, Item> = {
  /** The ids of the list's container, its "More" button and its "nothing found" line. */
  ids: { rows: string; more: string; empty: string };
  /** The query the list's form chooses now. */
  query: () => Query;
  /** A page of the query's items, from `cursor` on. */
  read: (query: Query, cursor: string | null) => Promise<{ items: Item[]; nextCursor: string | null }>;
  view: (item: Item) => HTMLElement;
};

/**
 * Shows the first page of the form's query, or (more) the next page of the list shown. A page
 * that arrives after another query was chosen (or back, or forward) is not shown.
 */
export function pagedList<Query, Item>({ ids, query, read, view }: PagedList<Query, Item>) {
  let listed: { query: Query; cursor: string | null } | null = null;
  return async (more: boolean): Promise<void> => {
    const rows = byId(ids.rows);
    if (!more || listed === null) {
      listed = { query: query(), cursor: null };
      clear(rows);
    }
    const reading = listed;
    const page = await read(reading.query, reading.cursor);
    if (reading !== listed) return;
    for (const item of page.items) rows.append(view(item));
    reading.cursor = page.nextCursor;
    byId(ids.more).hidden = page.nextCursor === null;
    byId(ids.empty).hidden = rows.childElementCount > 0;
  };
}

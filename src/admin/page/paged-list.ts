/**
 * A list the page shows a page at a time: the sessions, the search's hits. The address keeps how
 * many pages are shown (`pages=3`), so a reload or a link shows the same rows, not the first page.
 */
import { addressOf, type FormView, readAddress } from "./address";
import { byId, clear } from "./dom";

type PagedList<Query, Item> = {
  /** The ids of the list's container, its "More" button and its "nothing found" line. */
  ids: { rows: string; more: string; empty: string };
  /** The view whose address keeps the number of pages shown. */
  addressedAs: FormView;
  /** The address field that keeps it: `pages`, unless the view shows two lists. */
  pagesField?: string;
  /** The query the list's form chooses now. */
  query: () => Query;
  /** A page of the query's items, from `cursor` on. */
  read: (query: Query, cursor: string | null) => Promise<{ items: Item[]; nextCursor: string | null }>;
  view: (item: Item) => HTMLElement;
};

/**
 * At most this many pages are read again for an address (a reload, a link): one request each, so
 * a long-forgotten address cannot make the page read a thousand.
 */
export const maxPagesInAddress = 20;

type Listing<Query> = {
  query: Query;
  cursor: string | null;
  pages: number;
  /** The pages being read now: a second "More" while they come waits for them, it reads no page twice. */
  reading: Promise<void> | null;
};

/**
 * Shows the first pages of the form's query (as many as the address asks for), or (more) the
 * next page of the list shown. A page that arrives after another query was chosen (or back, or
 * forward) is not shown.
 */
export function pagedList<Query, Item>({
  ids,
  addressedAs,
  pagesField = "pages",
  query,
  read,
  view,
}: PagedList<Query, Item>) {
  let listed: Listing<Query> | null = null;

  /** Reads up to `count` pages of `listing`, appending each; then the address says how many are shown. */
  async function readPages(listing: Listing<Query>, count: number): Promise<void> {
    const rows = byId(ids.rows);
    const more = byId(ids.more, HTMLButtonElement);
    more.disabled = true;
    try {
      for (let n = 0; n < count; n++) {
        const page = await read(listing.query, listing.cursor);
        if (listing !== listed) return;
        for (const item of page.items) rows.append(view(item));
        listing.cursor = page.nextCursor;
        listing.pages += 1;
        more.hidden = page.nextCursor === null;
        byId(ids.empty).hidden = rows.childElementCount > 0;
        if (page.nextCursor === null) break;
      }
      keepPagesInAddress(listing.pages);
    } finally {
      if (listing === listed) more.disabled = false;
    }
  }

  /** The address, with `pages` when more than one is shown; replaced, not a new history entry. */
  function keepPagesInAddress(pages: number): void {
    const address = readAddress(location.hash);
    // The operator went elsewhere while the pages came.
    if (address.view !== addressedAs) return;
    const { [pagesField]: _shown, ...fields } = address.fields;
    const fragment = addressOf({
      view: addressedAs,
      fields: pages > 1 ? { ...fields, [pagesField]: String(pages) } : fields,
    });
    if (location.hash !== fragment) history.replaceState(history.state, "", fragment);
  }

  /** How many pages the address asks for: 1 to maxPagesInAddress, 1 for anything else. */
  function pagesAsked(): number {
    const address = readAddress(location.hash);
    const asked = address.view === addressedAs ? Number(address.fields[pagesField]) : 1;
    return Number.isSafeInteger(asked) && asked > 1 ? Math.min(asked, maxPagesInAddress) : 1;
  }

  return (more: boolean): Promise<void> => {
    if (more && listed !== null) {
      const listing = listed;
      if (listing.reading) return listing.reading;
      if (listing.cursor === null) return Promise.resolve();
      return track(listing, readPages(listing, 1));
    }
    clear(byId(ids.rows));
    const listing: Listing<Query> = { query: query(), cursor: null, pages: 0, reading: null };
    listed = listing;
    return track(listing, readPages(listing, pagesAsked()));
  };
}

/** Records that `listing` is being read until `reading` settles. */
function track<Query>(listing: Listing<Query>, reading: Promise<void>): Promise<void> {
  listing.reading = reading.finally(() => {
    listing.reading = null;
  });
  return listing.reading;
}

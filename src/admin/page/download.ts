/**
 * "Download CSV" of a list: the list the address shows, as its `.csv` route (docs/api.md §13.12)
 * sends it. An `<a href download>` cannot send the token (it lives in sessionStorage, never in a
 * cookie or the URL), so the file is fetched with it and handed to the browser as a blob: URL.
 * The page's CSP does not restrict a download's navigation, and Trusted Types guard no `href`.
 */
import { type FormView, readAddress } from "./address";
import { getCsv } from "./api";
import { element } from "./dom";
import { periodOf } from "./period";

/** The `.csv` route of each list that has one. */
const csvPaths: Partial<Record<FormView, string>> = {
  sessions: "/api/admin/sessions.csv",
  search: "/api/admin/search.csv",
  gaps: "/api/admin/gaps.csv",
  "rated-down": "/api/admin/rated-down.csv",
  frequent: "/api/admin/frequent-questions.csv",
  sources: "/api/admin/sources.csv",
};

/** The views whose address names a period by its length (`range=30d`), which the API takes as from and to. */
const periodViews: readonly FormView[] = ["frequent", "sources"];

/** The passages never cited, which the sources' view shows under its cited sources. */
export const uncitedCsvPath = "/api/admin/sources/uncited.csv";

/**
 * Downloads `view`'s list (or another list of the view, at `path`) as its address shows it (its
 * filters or query; `pages` is the page's own): every row, not only the pages shown. Nothing
 * happens on a search without words.
 */
export async function downloadCsv(view: FormView, path = csvPaths[view]): Promise<void> {
  const address = readAddress(location.hash);
  if (!path || address.view !== view) return;
  const { pages: _shown, passage_pages: _passages, ...fields } = address.fields;
  if (view === "search" && !fields.q) return;
  const parameters = periodViews.includes(view) ? periodOf(fields.range ?? "") : fields;
  const { blob, fileName } = await getCsv(path, parameters);
  const url = URL.createObjectURL(blob);
  const link = element("a");
  link.href = url;
  link.download = fileName;
  link.hidden = true;
  document.body.append(link);
  link.click();
  link.remove();
  // The browser has taken the file once the click's task is done; the URL would keep it in memory.
  setTimeout(() => URL.revokeObjectURL(url), 0);
}

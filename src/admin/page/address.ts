/**
 * The page's addresses: every view is named by the fragment of /admin's URL, so it can be linked,
 * reloaded, opened in a new tab and reached with back and forward. A view that a form chooses
 * (the range, the filters, the query) keeps the form's fields in the fragment, named as the form
 * names them, so a field added to a form is kept in the address without a change here.
 *
 *   #/stats?range=7d
 *   #/sessions?from=2026-11-01&has_failures=true&pages=3
 *   #/search?q=balance
 *   #/gaps?from=2026-11-01&below=0.35
 *   #/rated-down?from=2026-11-01
 *   #/frequent?range=90d
 *   #/sources?range=7d
 *   #/conversations/<session uuid>?message=<message id>
 *
 * A paged list (paged-list.ts) adds `pages`, how many of its pages are shown, when "More" was
 * used: a reload shows the same rows. A form sent again starts at the first page.
 *
 * The fragment, not the path: a browser never sends it, so a conversation's UUID or a search's
 * words stay out of the server's and any proxy's request logs, and the Worker serves one page.
 */

/** The views a form chooses, each named after its form (`${view}-form`). */
export type FormView = "stats" | "sessions" | "search" | "gaps" | "rated-down" | "frequent" | "sources";

export type Address =
  | { view: FormView; fields: Record<string, string> }
  | { view: "conversation"; sessionUuid: string; messageId: number | null };

const formViews: readonly FormView[] = ["stats", "sessions", "search", "gaps", "rated-down", "frequent", "sources"];

/** Where the page opens when the fragment names no view (or one it does not know). */
export const home: Address = { view: "stats", fields: {} };

function isFormView(name: string): name is FormView {
  return (formViews as readonly string[]).includes(name);
}

/** The view a fragment (location.hash) names. */
export function readAddress(fragment: string): Address {
  const [path = "", query = ""] = fragment.replace(/^#\/?/, "").split("?", 2);
  const parameters = new URLSearchParams(query);
  const segments = path.split("/").map(decodedOrNull);
  // A segment that is no valid percent-encoding names no view: the page opens at home.
  if (segments.includes(null)) return home;
  const [view = "", id, ...rest] = segments as string[];
  if (view === "conversations" && id && rest.length === 0) {
    const message = Number(parameters.get("message"));
    return {
      view: "conversation",
      sessionUuid: id,
      messageId: Number.isSafeInteger(message) && message > 0 ? message : null,
    };
  }
  if (isFormView(view) && id === undefined) {
    const fields: Record<string, string> = {};
    for (const [name, value] of parameters) if (value !== "") fields[name] = value;
    return { view, fields };
  }
  return home;
}

/** A segment decoded, or null when it is no valid percent-encoding (decodeURIComponent throws). */
function decodedOrNull(segment: string): string | null {
  try {
    return decodeURIComponent(segment);
  } catch {
    return null;
  }
}

/** The fragment that names a view, for an <a href> or location.hash. */
export function addressOf(address: Address): string {
  if (address.view === "conversation") {
    const path = `#/conversations/${encodeURIComponent(address.sessionUuid)}`;
    return address.messageId === null ? path : `${path}?message=${address.messageId}`;
  }
  const query = new URLSearchParams(address.fields).toString();
  return `#/${address.view}${query ? `?${query}` : ""}`;
}

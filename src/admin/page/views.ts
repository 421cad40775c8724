/**
 * The view the address names, shown: one section of the dashboard at a time, its form filled in
 * from the address, its data read again. Forms never load anything themselves; they go to the
 * address of what they chose, so every view the operator sees is one entry of the tab's history.
 */
import { type Address, addressOf, type FormView, readAddress } from "./address";
import { openConversation } from "./conversation";
import { byId, clear } from "./dom";
import { loadFrequentQuestions } from "./frequent";
import { loadContentGaps } from "./gaps";
import { attempt } from "./login";
import { loadRatedDown } from "./rated-down";
import { search } from "./search";
import { loadSessions } from "./sessions";
import { loadSources } from "./sources";
import { loadStats } from "./stats";

type View = Address["view"];

/** Each view's section of the page, its link in the navigation, and its part of the tab's title. */
const views: Record<View, { section: string; nav: string | null; title: string }> = {
  stats: { section: "stats", nav: "nav-stats", title: "Activity" },
  sessions: { section: "sessions", nav: "nav-sessions", title: "Sessions" },
  search: { section: "search", nav: "nav-search", title: "Search" },
  gaps: { section: "gaps", nav: "nav-gaps", title: "Content gaps" },
  "rated-down": { section: "rated-down", nav: "nav-rated-down", title: "Rated down" },
  conversation: { section: "conversation", nav: null, title: "Conversation" },
  frequent: { section: "frequent", nav: "nav-frequent", title: "Frequent questions" },
  sources: { section: "sources", nav: "nav-sources", title: "Sources" },
};

/** What an address shows, in words: the tab's title, and what signing in leads to. */
export function titleOf(address: Address): string {
  if (address.view === "conversation") return `Conversation ${address.sessionUuid.slice(0, 8)}…`;
  if (address.view === "search" && address.fields.q) return `Search for “${address.fields.q}”`;
  return views[address.view].title;
}

/** Puts the address's fields into the form; a field the address leaves out gets its default. */
function fillForm(view: FormView, fields: Record<string, string>): void {
  for (const control of byId(`${view}-form`, HTMLFormElement).elements) {
    if (control instanceof HTMLInputElement && control.name) {
      if (control.type === "checkbox") control.checked = fields[control.name] === control.value;
      else control.value = fields[control.name] ?? control.defaultValue;
    } else if (control instanceof HTMLSelectElement && control.name) {
      const chosen = [...control.options].find((option) => option.value === fields[control.name]);
      const fallback = [...control.options].find((option) => option.defaultSelected) ?? control.options[0];
      control.value = (chosen ?? fallback)?.value ?? "";
    }
  }
}

async function load(address: Address): Promise<void> {
  switch (address.view) {
    case "stats":
      return loadStats();
    case "sessions":
      return loadSessions(false);
    case "search":
      // The search link with no words yet: the form, and no results.
      if (!address.fields.q) {
        clear(byId("hits"));
        byId("hits-more").hidden = true;
        byId("hits-empty").hidden = true;
        byId("search-q").focus();
        return;
      }
      return search(false);
    case "gaps":
      return loadContentGaps(false);
    case "rated-down":
      return loadRatedDown(false);
    case "conversation":
      return openConversation(address.sessionUuid, address.messageId);
    case "frequent":
      return loadFrequentQuestions(false);
    case "sources":
      return loadSources();
  }
}

/** Shows the view the tab's address names, and reads its data. */
export function showAddressed(): Promise<void> {
  const address = readAddress(location.hash);
  for (const [view, { section, nav }] of Object.entries(views)) {
    byId(section).hidden = view !== address.view;
    if (nav) {
      if (view === address.view) byId(nav).setAttribute("aria-current", "page");
      else byId(nav).removeAttribute("aria-current");
    }
  }
  document.title = `${titleOf(address)} — Chat history operators`;
  if (address.view !== "conversation") {
    fillForm(address.view, address.fields);
    // The navigation returns to a view as it was last shown here, its range or filters kept.
    const nav = views[address.view].nav;
    if (nav) byId(nav, HTMLAnchorElement).href = addressOf(address);
  }
  return attempt(() => load(address));
}

/**
 * Goes to an address: a new entry in the tab's history, which the hashchange listener shows.
 * The same address again (a form sent twice) makes no entry and no event, so it is shown here.
 */
export function go(address: Address): void {
  const fragment = addressOf(address);
  if (location.hash === fragment) void showAddressed();
  else location.hash = fragment;
}

/**
 * The operators' page's script, the entry of its bundle (scripts/admin-page.mjs). It runs in the
 * browser, sent inline with the page's nonce by src/routes/admin-page.tsx; it wires the page's
 * forms and buttons, and shows the view the address names (src/admin/page/address.ts) when this
 * tab holds the admin token already, or once the operator has given it.
 */

import { type FormView, readAddress } from "./address";
import { adminToken } from "./api";
import { moreMessages } from "./conversation";
import { byId, formFields } from "./dom";
import { downloadCsv, uncitedCsvPath } from "./download";
import { loadFrequentQuestions } from "./frequent";
import { loadContentGaps } from "./gaps";
import { attempt, showLogin } from "./login";
import { loadRatedDown } from "./rated-down";
import { search } from "./search";
import { loadSessions } from "./sessions";
import { loadCitedSources, loadUncitedPassages } from "./sources";
import { go, showAddressed, titleOf } from "./views";

function start(): Promise<void> {
  byId("login").hidden = true;
  byId("dashboard").hidden = false;
  byId("logout").hidden = false;
  return showAddressed();
}

/** A form chooses a view: sending it goes to that view's address with the form's fields. */
function goOnSubmit(view: FormView): void {
  byId(`${view}-form`).addEventListener("submit", (event) => {
    event.preventDefault();
    go({ view, fields: formFields(`${view}-form`) });
  });
}

const tokenInput = byId("token", HTMLInputElement);
byId("login-form").addEventListener("submit", (event) => {
  event.preventDefault();
  const token = tokenInput.value.trim();
  if (!token) return;
  adminToken.keep(token);
  tokenInput.value = "";
  byId("login-error").textContent = "";
  // The address is left as it was: a link opened without the token shows its view once signed in.
  void start();
});
byId("logout").addEventListener("click", () => showLogin("Logged out."));
goOnSubmit("stats");
goOnSubmit("sessions");
goOnSubmit("search");
byId("sessions-more").addEventListener("click", () => attempt(() => loadSessions(true)));
byId("hits-more").addEventListener("click", () => attempt(() => search(true)));
byId("messages-more").addEventListener("click", () => attempt(moreMessages));
goOnSubmit("gaps");
goOnSubmit("rated-down");
byId("gaps-more").addEventListener("click", () => attempt(() => loadContentGaps(true)));
byId("rated-down-more").addEventListener("click", () => attempt(() => loadRatedDown(true)));
goOnSubmit("frequent");
goOnSubmit("sources");
byId("frequent-more").addEventListener("click", () => attempt(() => loadFrequentQuestions(true)));
byId("cited-more").addEventListener("click", () => attempt(() => loadCitedSources(true)));
byId("uncited-more").addEventListener("click", () => attempt(() => loadUncitedPassages(true)));
byId("sessions-csv").addEventListener("click", () => attempt(() => downloadCsv("sessions")));
byId("hits-csv").addEventListener("click", () => attempt(() => downloadCsv("search")));
byId("gaps-csv").addEventListener("click", () => attempt(() => downloadCsv("gaps")));
byId("rated-down-csv").addEventListener("click", () => attempt(() => downloadCsv("rated-down")));
byId("frequent-csv").addEventListener("click", () => attempt(() => downloadCsv("frequent")));
byId("sources-csv").addEventListener("click", () => attempt(() => downloadCsv("sources")));
byId("uncited-csv").addEventListener("click", () => attempt(() => downloadCsv("sources", uncitedCsvPath)));
/** Without the token, the sign-in form says which view a link opened in this tab leads to. */
function sayWhereSigningInLeads(): void {
  byId("login-next").textContent = location.hash ? `Then this tab shows: ${titleOf(readAddress(location.hash))}.` : "";
}

// Links, back and forward: while signed in, the view follows the address; without the token the
// sign-in form stays, and the address it was given is shown after it.
window.addEventListener("hashchange", () => {
  if (adminToken.read()) void showAddressed();
  else sayWhereSigningInLeads();
});

if (adminToken.read()) void start();
else {
  sayWhereSigningInLeads();
  tokenInput.focus();
}

/**
 * The operators' page's script, the entry of its bundle (scripts/admin-page.mjs). It runs in the
 * browser, sent inline with the page's nonce by src/routes/admin-page.tsx; it wires the page's
 * forms and buttons, and opens the dashboard when this tab holds the admin token already.
 */
import { adminToken } from "./api";
import { closeConversation, moreMessages } from "./conversation";
import { byId } from "./dom";
import { attempt, showLogin } from "./login";
import { search } from "./search";
import { loadSessions } from "./sessions";
import { loadStats } from "./stats";

async function start(): Promise<void> {
  byId("login").hidden = true;
  byId("dashboard").hidden = false;
  byId("logout").hidden = false;
  await attempt(loadStats);
  // A refused token has sent the operator back to the sign-in form: nothing more to load.
  if (byId("dashboard").hidden) return;
  await attempt(() => loadSessions(false));
}

function onSubmit(formId: string, action: () => Promise<void>): void {
  byId(formId).addEventListener("submit", (event) => {
    event.preventDefault();
    void attempt(action);
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
  void start();
});
byId("logout").addEventListener("click", () => showLogin("Logged out."));
onSubmit("stats-form", loadStats);
onSubmit("sessions-form", () => loadSessions(false));
onSubmit("search-form", () => search(false));
byId("sessions-more").addEventListener("click", () => attempt(() => loadSessions(true)));
byId("hits-more").addEventListener("click", () => attempt(() => search(true)));
byId("messages-more").addEventListener("click", () => attempt(moreMessages));
byId("conversation-close").addEventListener("click", closeConversation);

if (adminToken.read()) void start();
else tokenInput.focus();

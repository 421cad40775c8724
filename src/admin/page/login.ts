/** Signing in and out, and what every action of the page does when the token is refused. */
import { adminToken, Unauthorized } from "./api";
import { byId, clear } from "./dom";

/** The sections that show what the token opened; emptied when it goes. */
const shownWithToken = ["tiles", "charts", "top-sources", "session-rows", "hits", "messages"];

export function showLogin(message = ""): void {
  adminToken.forget();
  byId("dashboard").hidden = true;
  byId("logout").hidden = true;
  byId("login").hidden = false;
  byId("login-error").textContent = message;
  for (const id of shownWithToken) clear(byId(id));
  byId("conversation").hidden = true;
  byId("token").focus();
}

/** Runs an action of the page; a refused token sends the operator back to the sign-in form. */
export async function attempt(action: () => Promise<void>): Promise<void> {
  byId("error").textContent = "";
  try {
    await action();
  } catch (error) {
    if (error instanceof Unauthorized) showLogin("The token was refused. Sign in again.");
    else byId("error").textContent = `Could not load: ${error instanceof Error ? error.message : String(error)}`;
  }
}

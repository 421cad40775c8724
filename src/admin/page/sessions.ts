/** The Sessions section: the filter form, one row per session, "More sessions" for the next page. */
import { type AdminSession, listSessions } from "./api";
import { openConversation } from "./conversation";
import { byId, clear, element } from "./dom";
import { number, utc } from "./format";
import { attempt } from "./login";

/** The filter of the list shown, and where its next page starts. */
let filter: Record<string, string> = {};
let cursor: string | null = null;

/** The form's fields that are filled in, named as the API's query parameters. */
function formFilter(): Record<string, string> {
  const chosen: Record<string, string> = {};
  for (const [name, value] of new FormData(byId("sessions-form", HTMLFormElement)).entries()) {
    if (typeof value === "string" && value !== "") chosen[name] = value;
  }
  return chosen;
}

/** The first page of the form's filter, or (more) the next page of the list shown. */
export async function loadSessions(more: boolean): Promise<void> {
  const rows = byId("session-rows");
  if (!more) {
    filter = formFilter();
    cursor = null;
    clear(rows);
  }
  const page = await listSessions(filter, cursor);
  for (const session of page.sessions) rows.append(sessionRow(session));
  cursor = page.next_cursor;
  byId("sessions-more").hidden = page.next_cursor === null;
  byId("sessions-empty").hidden = rows.childElementCount > 0;
}

/**
 * Who a session belongs to: "anonymous", or the first characters of its reader's opaque
 * reference (all of it in the title); choosing it lists that reader's sessions.
 */
function readerCell(reference: string | null): HTMLElement {
  const cell = element("td", "reader");
  if (reference === null) {
    cell.append(element("span", "muted", "anonymous"));
    return cell;
  }
  const choose = element("button", "link", `reader ${reference.slice(0, 8)}`);
  choose.type = "button";
  choose.title = reference;
  choose.addEventListener("click", () => {
    byId("sessions-reader", HTMLInputElement).value = reference;
    void attempt(() => loadSessions(false));
  });
  cell.append(choose);
  return cell;
}

function sessionRow(session: AdminSession): HTMLElement {
  const row = element("tr");
  row.dataset.session = session.session_uuid;
  const open = element("button", "link", `${session.title || "(no question)"}${session.imported ? " (imported)" : ""}`);
  open.type = "button";
  open.addEventListener("click", () => attempt(() => openConversation(session.session_uuid, null)));
  const first = element("td");
  first.append(open);
  row.append(
    first,
    element("td", null, utc(session.last_activity_at)),
    readerCell(session.reader),
    element("td", "number", number(session.message_count)),
    element("td", "number", number(session.unanswered_questions)),
    element("td", "number", number(session.incomplete_answers)),
    element("td", "number", number(session.ratings.up)),
    element("td", "number", number(session.ratings.down)),
  );
  return row;
}

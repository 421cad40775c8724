/** The Sessions section: the filter form, one row per session, "More sessions" for the next page. */
import { addressOf } from "./address";
import { type AdminSession, listSessions } from "./api";
import { element, formFields } from "./dom";
import { number, utc } from "./format";
import { pagedList } from "./paged-list";

/** The first page of the form's filter, or (more) the next page of the list shown. */
export const loadSessions = pagedList({
  ids: { rows: "session-rows", more: "sessions-more", empty: "sessions-empty" },
  addressedAs: "sessions",
  query: () => formFields("sessions-form"),
  read: async (filter, cursor) => {
    const page = await listSessions(filter, cursor);
    return { items: page.sessions, nextCursor: page.next_cursor };
  },
  view: (session: AdminSession) => sessionRow(session),
});

/**
 * Who a session belongs to: "anonymous", or the first characters of its reader's opaque
 * reference (all of it in the title), linked to the list of that reader's sessions.
 */
function readerCell(reference: string | null): HTMLElement {
  const cell = cellOf("Reader", "reader");
  if (reference === null) {
    cell.append(element("span", "muted", "anonymous"));
    return cell;
  }
  const sessions = element("a", null, `reader ${reference.slice(0, 8)}`);
  sessions.href = addressOf({ view: "sessions", fields: { reader: reference } });
  sessions.title = reference;
  cell.append(sessions);
  return cell;
}

/** A cell, named by its column: a phone's narrow screen shows each row as a card of named values. */
function cellOf(column: string, className: string | null, text?: string): HTMLTableCellElement {
  const cell = element("td", className, text);
  cell.dataset.label = column;
  return cell;
}

function sessionRow(session: AdminSession): HTMLElement {
  const row = element("tr");
  row.dataset.session = session.session_uuid;
  const open = element("a", null, `${session.title || "(no question)"}${session.imported ? " (imported)" : ""}`);
  open.href = addressOf({ view: "conversation", sessionUuid: session.session_uuid, messageId: null });
  const first = cellOf("First question", "title");
  first.append(open);
  row.append(
    first,
    cellOf("Last activity", "time", utc(session.last_activity_at)),
    readerCell(session.reader),
    cellOf("Messages", "number", number(session.message_count)),
    cellOf("Unanswered", "number", number(session.unanswered_questions)),
    cellOf("Incomplete", "number", number(session.incomplete_answers)),
    cellOf("Up", "number", number(session.ratings.up)),
    cellOf("Down", "number", number(session.ratings.down)),
  );
  return row;
}

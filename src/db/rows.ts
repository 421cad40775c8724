import type { MessageStatus, Sender, Source } from "./schema";

/** A message as API.md §2 describes it; the db layer builds it in SQL (see `messageJson`). */
export type Message = {
  id: number;
  seq: number;
  sender: Sender;
  message: string;
  timestamp: string;
  status: MessageStatus;
  client_message_id: string | null;
  sources: Source[];
};

export type SessionSummary = {
  session_uuid: string;
  created_at: string;
  last_message_at: string | null;
  message_count: number;
};

/** A message as the model's memory holds it. */
export type HistoryMessage = { sender: Sender; message: string };

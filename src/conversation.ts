/**
 * What a conversation is made of, as every part of the service sees it: the database stores it,
 * answers/ reads it, the API shows it. Nothing here depends on any other module.
 */

export const senders = ["user", "bot"] as const;
export const messageStatuses = ["complete", "incomplete"] as const;
/** A reader's verdict on an answer. */
export const feedbackRatings = ["up", "down"] as const;

export type Sender = (typeof senders)[number];
/** "incomplete": an answer whose generation was cut short after part of it was sent. */
export type MessageStatus = (typeof messageStatuses)[number];
export type FeedbackRating = (typeof feedbackRatings)[number];

/** A passage of the book that an answer was grounded on. */
export type Source = {
  title: string;
  url: string | null;
  /** The passage's first 300 characters. */
  snippet: string;
  /** Qdrant's similarity score. */
  score: number;
};

/** A message as the model's memory of the conversation holds it. */
export type HistoryMessage = { sender: Sender; message: string };

/**
 * A source's link is shown as a link (the history, the useChat stream, the operators' page, the
 * Markdown export), so only an absolute http(s) URL is one: a javascript: or data: URL would run
 * or show whatever it holds. The pattern is the form JSON Schema states; URL.canParse then rules
 * out what has the form but is malformed (`http://[`).
 */
export const sourceUrlPattern = /^https?:\/\/\S+$/;

export function isSourceUrl(url: string): boolean {
  return sourceUrlPattern.test(url) && URL.canParse(url);
}

import type { Sender, Source } from "../db/schema";

/** A message of the conversation so far, oldest first, for the model's memory. */
export type HistoryMessage = { sender: Sender; message: string };

export type AnswerRequest = {
  question: string;
  history: HistoryMessage[];
  /** Aborted when the answer is no longer wanted (time-out); implementations stop their I/O. */
  signal: AbortSignal;
};

export type Answer = {
  text: string;
  sources: Source[];
  /** Stored with the bot message: model, token usage, latency. */
  metadata: Record<string, unknown>;
};

/** Writes the chatbot's answer to a question. Throwing means the answer failed (502). */
export interface Responder {
  /** Named on /health as `answer_provider`. */
  readonly name: string;
  answer(request: AnswerRequest): Promise<Answer>;
}

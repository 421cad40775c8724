import type { HistoryMessage, Source } from "../conversation";

export type AnswerRequest = {
  question: string;
  /** The conversation before the question, oldest first. */
  history: HistoryMessage[];
  /** Aborted when the answer is no longer wanted (time-out, client gone); stop all I/O. */
  signal: AbortSignal;
  /**
   * Streaming: called with each piece of the answer as the model produces it, in order. It must
   * not wait for the client (see chat/delta-batcher.ts), so it returns nothing to await.
   */
  onDelta?: (text: string) => void;
};

export type Answer = {
  text: string;
  sources: Source[];
  /** Stored with the bot message: model, token usage, latency, how retrieval went. */
  metadata: Record<string, unknown>;
};

/** Writes the chatbot's answer to a question. Throwing means the answer failed (502). */
export interface Responder {
  /** Named on /health as `answer_provider`. */
  readonly name: string;
  answer(request: AnswerRequest): Promise<Answer>;
}

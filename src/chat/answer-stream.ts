/**
 * A turn's answer as it is written, for every route that streams one: the server-sent events of
 * POST /api/chat and the UI message stream of POST /api/ui/chat differ only in how they frame it.
 */
import type { Context } from "hono";
import type { ChatMessage } from "../db/schema";
import { toApiError } from "../http/error-handler";
import type { ApiError } from "../http/problem";
import { logStreamFailure } from "../http/request-log";
import { batchDeltas } from "./delta-batcher";
import { answerQuestion, type Turn } from "./turn";

/** Where an answer goes, in order: text…, then done or failed. */
export type AnswerSink = {
  /** The next piece of the answer: pieces are batched (chat/delta-batcher.ts). */
  text(text: string): Promise<unknown>;
  /** The answer, stored. */
  done(answer: ChatMessage): Promise<unknown>;
  /** Generating or storing the answer failed; the failure is logged, the question kept. */
  failed(failure: ApiError): Promise<unknown>;
};

/**
 * Answers the turn into `sink`. A replayed turn sends its stored answer in one piece. A client
 * that goes away does not stop the answer: it is generated to the end and stored, so the reader
 * finds it in the history; waitUntil keeps the Worker running for that, and writes to a closed
 * stream go nowhere.
 */
export async function streamAnswer(c: Context, turn: Turn, sink: AnswerSink): Promise<void> {
  const startedAt = Date.now();
  if (turn.storedAnswer) {
    await sink.text(turn.storedAnswer.message);
    await sink.done(turn.storedAnswer);
    return;
  }
  const deltas = batchDeltas(sink.text);
  const answered = answerQuestion(turn, deltas.push);
  c.executionCtx.waitUntil(answered.catch(() => {}));
  try {
    const answer = await answered;
    await deltas.flush();
    await sink.done(answer);
  } catch (error) {
    const failure = toApiError(error);
    logStreamFailure(c, failure, startedAt);
    await deltas.flush();
    await sink.failed(failure);
  }
}

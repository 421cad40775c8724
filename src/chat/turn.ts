/**
 * One chat turn: the question is committed first, then answered, then the answer is stored.
 * A question that was stored but never answered is answered by a retry with the same
 * client_message_id, without storing it twice.
 */
import type { Responder } from "../answers/responder";
import type { RequestSession } from "../context";
import type { Database } from "../db/client";
import {
  appendQuestion,
  findTurn,
  startSessionWithQuestion,
  storeAnswer,
  type Message,
} from "../db/queries";
import { DeadlineExceeded, withDeadline } from "../deadline";
import { ApiError } from "../http/problem";
import type { ChatRequest } from "../schemas/chat";

export type RecordedQuestion = { sessionId: number; question: Message; storedAnswer: Message | null };

export async function recordQuestion(db: Database, session: RequestSession, request: ChatRequest): Promise<RecordedQuestion> {
  const input = {
    sessionUuid: session.uuid,
    question: request.question,
    clientMessageId: request.client_message_id ?? null,
  };
  if (session.issued) {
    return { ...(await startSessionWithQuestion(db, input)), storedAnswer: null };
  }
  const appended = await appendQuestion(db, input);
  if (appended) return { ...appended, storedAnswer: null };

  // Nothing was appended: the session does not exist, or this client_message_id was seen before.
  const turn = input.clientMessageId ? await findTurn(db, session.uuid, input.clientMessageId) : null;
  if (!turn) throw sessionNotFound();
  if (!turn.question) throw sessionNotFound(); // deleted between the two statements
  if (turn.question.message !== request.question) {
    throw new ApiError(
      "idempotency_conflict",
      "client_message_id was already used for a different question in this session",
    );
  }
  return { sessionId: turn.sessionId, question: turn.question, storedAnswer: turn.answer };
}

type AnswerTurn = {
  db: Database;
  responder: Responder;
  timeoutMs: number;
  sessionUuid: string;
  sessionId: number;
  question: Message;
};

export async function answerQuestion(turn: AnswerTurn): Promise<Message> {
  const answer = await generateAnswer(turn);
  const stored = await storeAnswer(turn.db, {
    sessionId: turn.sessionId,
    replyToId: turn.question.id,
    text: answer.text,
    status: "complete",
    sources: answer.sources,
    metadata: answer.metadata,
  });
  if (!stored) throw sessionNotFound();
  return stored;
}

async function generateAnswer({ responder, timeoutMs, sessionUuid, question }: AnswerTurn) {
  const retry = { session_uuid: sessionUuid };
  try {
    return await withDeadline(timeoutMs, (signal) =>
      responder.answer({ question: question.message, history: [], signal }),
    );
  } catch (error) {
    if (error instanceof DeadlineExceeded) {
      throw new ApiError("answer_timeout", `no answer within ${timeoutMs} ms; the question is kept, retry with the same client_message_id`, {
        extensions: retry,
        cause: error,
      });
    }
    throw new ApiError("answer_failed", "the answer could not be generated; the question is kept, retry with the same client_message_id", {
      extensions: retry,
      cause: error,
    });
  }
}

export function sessionNotFound(): ApiError {
  return new ApiError("session_not_found", "no session with this session_uuid exists; start a new conversation");
}

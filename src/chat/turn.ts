/**
 * One chat turn: the question is committed first, then answered, then the answer is stored.
 * A question that was stored but never answered is answered by a retry with the same
 * client_message_id, without storing it twice.
 */
import type { Answer, Responder } from "../answers/responder";
import type { AnswerSetup } from "../answers/select";
import type { Config } from "../config";
import type { RequestSession } from "../context";
import type { HistoryMessage } from "../conversation";
import type { Database } from "../db/client";
import type { SessionAccess } from "../db/fragments";
import type { ChatMessage } from "../db/schema";
import { appendQuestion, findTurn, recentMessages, startSessionWithQuestion, storeAnswer } from "../db/turns";
import { DeadlineExceeded, withDeadline } from "../deadline";
import { toApiError } from "../http/error-handler";
import { ApiError, sessionNotFound } from "../http/problem";
import type { ChatRequest } from "../schemas/chat";

export type RecordedQuestion = {
  question: ChatMessage;
  /** The answer a replayed turn already has. */
  storedAnswer: ChatMessage | null;
  /** The messages before the question, when recording could read them in the same statement. */
  history: HistoryMessage[] | null;
};

export async function recordQuestion(
  db: Database,
  session: RequestSession,
  request: ChatRequest,
  historyTurns: number,
  access: SessionAccess,
): Promise<RecordedQuestion> {
  const input = {
    sessionUuid: session.uuid,
    question: request.question,
    clientMessageId: request.client_message_id ?? null,
    historyLimit: historyTurns,
    access,
  };
  if (session.issued) {
    return { ...(await startSessionWithQuestion(db, input)), storedAnswer: null };
  }
  const appended = await appendQuestion(db, input);
  if (appended) return { ...appended, storedAnswer: null };

  // Nothing was appended: the session does not exist (or has expired, or is another reader's), or
  // this client_message_id was seen before.
  const turn = input.clientMessageId ? await findTurn(db, session.uuid, input.clientMessageId, access) : null;
  if (!turn?.question) throw sessionNotFound();
  if (turn.question.message !== request.question) {
    throw new ApiError(
      "idempotency_conflict",
      "client_message_id was already used for a different question in this session",
    );
  }
  return { question: turn.question, storedAnswer: turn.answer, history: null };
}

export type Turn = { recorded: RecordedQuestion; answering: AnswerTurn };

/**
 * The start every turn shares, whatever form its answer takes: check that an answer can be made
 * (before anything is stored: a service that cannot answer keeps no questions), then store the
 * question.
 */
export async function startTurn(
  db: Database,
  session: RequestSession,
  request: ChatRequest,
  { responder, problem }: AnswerSetup,
  config: Pick<Config, "historyTurns" | "answerTimeoutMs">,
  access: SessionAccess,
): Promise<Turn> {
  if (!responder) throw new ApiError("answer_unavailable", `no usable answer model is configured (${problem})`);
  const recorded = await recordQuestion(db, session, request, config.historyTurns, access);
  return {
    recorded,
    answering: {
      db,
      responder,
      timeoutMs: config.answerTimeoutMs,
      historyTurns: config.historyTurns,
      history: recorded.history,
      sessionUuid: session.uuid,
      question: recorded.question,
    },
  };
}

export type AnswerTurn = {
  db: Database;
  responder: Responder;
  timeoutMs: number;
  historyTurns: number;
  /** The messages before the question; read here when null (a retried turn). */
  history: HistoryMessage[] | null;
  sessionUuid: string;
  question: ChatMessage;
  /** Streaming: receives each piece of the answer as it is generated. */
  onDelta?: (text: string) => void;
};

/**
 * Generates the answer and stores it. If generation is cut short after part of a streamed answer
 * was sent (model failure, time-out), that part is stored with status "incomplete" before the
 * failure is reported: the reader saw it. If nothing was generated, nothing is stored, and a
 * retry with the same client_message_id answers the question. Every failure here comes after the
 * question was stored, so each one tells the client its session and how to retry.
 */
export async function answerQuestion(turn: AnswerTurn): Promise<ChatMessage> {
  try {
    const history =
      turn.history ?? (await recentMessages(turn.db, turn.question.sessionId, turn.question.seq, turn.historyTurns));
    let partial = "";
    const forward = turn.onDelta;
    const onDelta =
      forward &&
      ((text: string) => {
        partial += text;
        forward(text);
      });
    let answer: Answer;
    try {
      answer = await withDeadline(turn.timeoutMs, (deadline) =>
        turn.responder.answer({ question: turn.question.message, history, signal: deadline, onDelta }),
      );
    } catch (error) {
      const failure = generationFailure(error, turn);
      if (partial.length > 0) {
        await store(turn, { text: partial, status: "incomplete", sources: [], metadata: { cut_short: failure.code } });
      }
      throw failure;
    }
    return await store(turn, {
      text: answer.text,
      status: "complete",
      sources: answer.sources,
      metadata: answer.metadata,
    });
  } catch (error) {
    throw keptQuestionFailure(error, turn);
  }
}

async function store(
  turn: AnswerTurn,
  answer: Pick<ChatMessage, "status" | "sources"> & { text: string; metadata: Record<string, unknown> },
) {
  const stored = await storeAnswer(turn.db, {
    sessionId: turn.question.sessionId,
    replyToId: turn.question.id,
    ...answer,
  });
  if (!stored) throw sessionNotFound();
  return stored;
}

/** What the client may do about a question that is stored but not answered. */
function retryHint(turn: AnswerTurn): string {
  return turn.question.clientMessageId === null
    ? "the question is kept in the session"
    : "the question is kept, retry with the same client_message_id";
}

function generationFailure(error: unknown, turn: AnswerTurn): ApiError {
  const retry = { extensions: { session_uuid: turn.sessionUuid }, cause: error };
  if (error instanceof DeadlineExceeded) {
    return new ApiError("answer_timeout", `no answer within ${turn.timeoutMs} ms; ${retryHint(turn)}`, retry);
  }
  return new ApiError("answer_failed", `the answer could not be generated; ${retryHint(turn)}`, retry);
}

/** A failure of the database (or a bug) while answering: still a database problem, with the hint. */
function keptQuestionFailure(error: unknown, turn: AnswerTurn): ApiError {
  if (error instanceof ApiError) return error;
  const failure = toApiError(error);
  return new ApiError(failure.code, `${failure.detail}; ${retryHint(turn)}`, {
    extensions: { session_uuid: turn.sessionUuid },
    cause: error,
  });
}

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
import {
  appendQuestion,
  findTurn,
  type QuestionInput,
  recentMessages,
  startSessionWithQuestion,
  storeAnswer,
} from "../db/turns";
import { DeadlineExceeded, withDeadline } from "../deadline";
import { toApiError } from "../http/error-handler";
import { ApiError, sessionNotFound } from "../http/problem";
import type { ChatRequest } from "../schemas/chat";

/**
 * A turn whose question is stored: what answering it needs, each piece once. Made by startTurn,
 * answered by answerQuestion (JSON) or chat/answer-stream.ts (a stream).
 */
export type Turn = {
  /** The session the turn is in; `issued` when this turn started it. */
  session: RequestSession;
  question: ChatMessage;
  /** The answer a replayed turn already has. */
  storedAnswer: ChatMessage | null;
  /**
   * The messages before the question, when storing it could read them in the same statement;
   * null for a retried turn, whose history answering reads.
   */
  history: HistoryMessage[] | null;
  // What answering uses: the request's database client, the model, the configured limits.
  db: Database;
  responder: Responder;
  timeoutMs: number;
  historyTurns: number;
};

/** What every turn of a request is started with. */
export type TurnSetup = {
  db: Database;
  answers: AnswerSetup;
  config: Pick<Config, "historyTurns" | "answerTimeoutMs">;
  access: SessionAccess;
};

/** A session this request issued: it is created with the turn's question, so it always exists. */
type IssuedSession = RequestSession & { issued: true };

/**
 * The start every turn shares, whatever form its answer takes: check that an answer can be made
 * (before anything is stored: a service that cannot answer keeps no questions), then store the
 * question, or find it stored by an earlier try with the same client_message_id. Null when the
 * session named does not exist (never issued, deleted, expired, or another reader's): each route
 * decides what that means.
 */
export async function startTurn(setup: TurnSetup, session: IssuedSession, request: ChatRequest): Promise<Turn>;
export async function startTurn(setup: TurnSetup, session: RequestSession, request: ChatRequest): Promise<Turn | null>;
export async function startTurn(
  { db, answers, config, access }: TurnSetup,
  session: RequestSession,
  request: ChatRequest,
): Promise<Turn | null> {
  const { responder, problem } = answers;
  if (!responder) throw new ApiError("answer_unavailable", `no usable answer model is configured (${problem})`);
  const input = {
    sessionUuid: session.uuid,
    question: request.question,
    clientMessageId: request.client_message_id ?? null,
    historyLimit: config.historyTurns,
    access,
  };
  const stored = await storeQuestion(db, session, input);
  if (!stored) return null;
  return {
    session,
    ...stored,
    db,
    responder,
    timeoutMs: config.answerTimeoutMs,
    historyTurns: config.historyTurns,
  };
}

type StoredOrReplayed = Pick<Turn, "question" | "storedAnswer" | "history">;

async function storeQuestion(
  db: Database,
  session: RequestSession,
  input: QuestionInput,
): Promise<StoredOrReplayed | null> {
  if (session.issued) return { ...(await startSessionWithQuestion(db, input)), storedAnswer: null };
  const appended = await appendQuestion(db, input);
  if (appended) return { ...appended, storedAnswer: null };

  // Nothing was appended: the session does not exist (or has expired, or is another reader's), or
  // this client_message_id was seen before.
  const turn = input.clientMessageId ? await findTurn(db, session.uuid, input.clientMessageId, input.access) : null;
  if (!turn?.question) return null;
  if (turn.question.message !== input.question) {
    throw new ApiError(
      "idempotency_conflict",
      "client_message_id was already used for a different question in this session",
    );
  }
  return { question: turn.question, storedAnswer: turn.answer, history: null };
}

/**
 * Generates the answer and stores it. If generation is cut short after part of a streamed answer
 * was sent (model failure, time-out), that part is stored with status "incomplete" before the
 * failure is reported: the reader saw it. If nothing was generated, nothing is stored, and a
 * retry with the same client_message_id answers the question. Every failure here comes after the
 * question was stored, so each one tells the client its session and how to retry.
 */
export async function answerQuestion(turn: Turn, onDelta?: (text: string) => void): Promise<ChatMessage> {
  try {
    const history =
      turn.history ?? (await recentMessages(turn.db, turn.question.sessionId, turn.question.seq, turn.historyTurns));
    let partial = "";
    const passOn =
      onDelta &&
      ((text: string) => {
        partial += text;
        onDelta(text);
      });
    let answer: Answer;
    try {
      answer = await withDeadline(turn.timeoutMs, (deadline) =>
        turn.responder.answer({ question: turn.question.message, history, signal: deadline, onDelta: passOn }),
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
  turn: Turn,
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
function retryHint(turn: Turn): string {
  return turn.question.clientMessageId === null
    ? "the question is kept in the session"
    : "the question is kept, retry with the same client_message_id";
}

function generationFailure(error: unknown, turn: Turn): ApiError {
  const retry = { extensions: { session_uuid: turn.session.uuid }, cause: error };
  if (error instanceof DeadlineExceeded) {
    return new ApiError("answer_timeout", `no answer within ${turn.timeoutMs} ms; ${retryHint(turn)}`, retry);
  }
  return new ApiError("answer_failed", `the answer could not be generated; ${retryHint(turn)}`, retry);
}

/** A failure of the database (or a bug) while answering: still a database problem, with the hint. */
function keptQuestionFailure(error: unknown, turn: Turn): ApiError {
  if (error instanceof ApiError) return error;
  const failure = toApiError(error);
  return new ApiError(failure.code, `${failure.detail}; ${retryHint(turn)}`, {
    extensions: { session_uuid: turn.session.uuid },
    cause: error,
  });
}

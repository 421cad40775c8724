// After a fault, `npm run test:faults` holds the database to what the clients were told: every
// acknowledged turn (a 200 with user_message and bot_message) is stored once, exactly as
// acknowledged, with one answer; no session has a duplicated client_message_id, a question
// stored twice or a hole in its seq. Read straight from PostgreSQL, not through the service.
import { createRequire } from "node:module";

const postgres = createRequire(import.meta.url)("postgres");

/**
 * @typedef {{
 *   acknowledged: number,
 *   acknowledgedMissing: number,
 *   acknowledgedAltered: number,
 *   duplicatedMessages: number,
 *   seqProblems: number,
 *   storedNotAcknowledged: number,
 *   storedNotAcknowledgedAnswered: number,
 *   storedByEarlierAttempt: number,
 *   answeredByEarlierAttempt: number,
 *   questionsWithoutAnswer: number,
 *   strangers: number,
 *   problems: string[],
 * }} Check
 *   duplicatedMessages: extra copies of a question (same client_message_id, or same text) and
 *   extra answers to one question; seqProblems: sessions whose seq is not 1..message_count;
 *   storedNotAcknowledged: turns whose client never got a 200 but whose question is stored;
 *   storedByEarlierAttempt, answeredByEarlierAttempt: acknowledged turns whose question (answer)
 *   was stored before their last attempt was sent, by an attempt that failed: the retry was
 *   served from what was stored;
 *   strangers: messages no turn of the run sent or was answered with; problems: the first of each
 */

/**
 * @param {string} url
 * @param {string[]} sessions
 * @param {import("./faults-load.mjs").Turn[]} turns
 * @returns {Promise<Check>}
 */
export async function checkTurns(url, sessions, turns) {
  const sql = postgres(url, { max: 1, onnotice: () => {} });
  /** @type {{ session_uuid: string, message_count: number, id: string | null, seq: number | null, sender: string | null, message: string | null, client_message_id: string | null, reply_to_id: string | null, stored_at: number | null }[]} */
  let rows;
  try {
    rows = await sql`
      select s.session_uuid::text, s.message_count, m.id::text, m.seq, m.sender, m.message,
        m.client_message_id::text, m.reply_to_id::text,
        (extract(epoch from m.timestamp) * 1000)::float8 as stored_at
      from chat_sessions s left join chat_messages m on m.session_id = s.id
      where s.session_uuid in ${sql(sessions)}
      order by s.id, m.seq`;
  } finally {
    await sql.end({ timeout: 2 }).catch(() => {});
  }

  /** @type {Check} */
  const check = {
    acknowledged: 0,
    acknowledgedMissing: 0,
    acknowledgedAltered: 0,
    duplicatedMessages: 0,
    seqProblems: 0,
    storedNotAcknowledged: 0,
    storedNotAcknowledgedAnswered: 0,
    storedByEarlierAttempt: 0,
    answeredByEarlierAttempt: 0,
    questionsWithoutAnswer: 0,
    strangers: 0,
    problems: [],
  };
  const problem = (/** @type {string} */ text) => {
    if (check.problems.length < 10) check.problems.push(text);
  };

  const missingSessions = sessions.filter((uuid) => !rows.some((row) => row.session_uuid === uuid));
  for (const uuid of missingSessions) problem(`session ${uuid} is gone`);

  /** @type {Map<string, typeof rows>} */
  const bySession = new Map();
  for (const row of rows) {
    if (row.id === null) continue;
    const list = bySession.get(row.session_uuid) ?? [];
    list.push(row);
    bySession.set(row.session_uuid, list);
  }
  for (const uuid of sessions) {
    const messages = bySession.get(uuid) ?? [];
    const count = rows.find((row) => row.session_uuid === uuid)?.message_count ?? 0;
    const gap = messages.findIndex((message, i) => message.seq !== i + 1);
    if (gap >= 0 || messages.length !== count) {
      check.seqProblems++;
      problem(
        `session ${uuid}: message_count ${count}, ${messages.length} messages, seq ${messages.map((m) => m.seq).join(",")}`,
      );
    }
  }

  /** @type {Map<string, typeof rows>} questions by session and client_message_id */
  const questionsByKey = new Map();
  /** @type {Map<string, typeof rows>} questions by session and text */
  const questionsByText = new Map();
  /** @type {Map<string, typeof rows>} answers by the id of their question */
  const answersByQuestion = new Map();
  const push = (/** @type {Map<string, typeof rows>} */ map, /** @type {string} */ key, /** @type {any} */ row) => {
    const list = map.get(key) ?? [];
    list.push(row);
    map.set(key, list);
  };
  for (const row of rows) {
    if (row.id === null) continue;
    if (row.sender === "user") {
      push(questionsByKey, `${row.session_uuid} ${row.client_message_id}`, row);
      push(questionsByText, `${row.session_uuid} ${row.message}`, row);
    } else {
      push(answersByQuestion, String(row.reply_to_id), row);
    }
  }
  for (const [key, list] of questionsByKey) {
    if (list.length > 1) {
      check.duplicatedMessages += list.length - 1;
      problem(`client_message_id stored ${list.length} times: ${key}`);
    }
  }
  for (const [key, list] of questionsByText) {
    const distinctKeys = new Set(list.map((row) => row.client_message_id)).size;
    if (distinctKeys > 1) {
      check.duplicatedMessages += distinctKeys - 1;
      problem(`question stored under ${distinctKeys} client_message_ids: ${key}`);
    }
  }
  for (const [questionId, list] of answersByQuestion) {
    if (list.length > 1) {
      check.duplicatedMessages += list.length - 1;
      problem(`question ${questionId} has ${list.length} answers`);
    }
  }

  const known = new Set();
  for (const turn of turns) {
    const stored = questionsByKey.get(`${turn.session} ${turn.clientMessageId}`) ?? [];
    const question = stored[0];
    const answers = question ? (answersByQuestion.get(String(question.id)) ?? []) : [];
    if (question) known.add(question.id);
    for (const answer of answers) known.add(answer.id);
    if (question && answers.length === 0) check.questionsWithoutAnswer++;

    const acked = turn.acknowledged;
    if (!acked) {
      if (question) {
        check.storedNotAcknowledged++;
        if (answers.length > 0) check.storedNotAcknowledgedAnswered++;
      }
      continue;
    }
    check.acknowledged++;
    const answer = answers[0];
    if (!question || !answer) {
      check.acknowledgedMissing++;
      problem(
        `acknowledged turn ${turn.clientMessageId} in ${turn.session}: ${question ? "answer" : "question"} missing`,
      );
      continue;
    }
    const same =
      Number(question.id) === acked.user.id &&
      question.seq === acked.user.seq &&
      question.message === turn.question &&
      Number(answer.id) === acked.bot.id &&
      answer.seq === acked.bot.seq &&
      answer.message === acked.bot.message;
    // Timestamps are stored at ms precision by the same machine's clock; 1 ms of slack.
    if (turn.attempts > 1 && Number(question.stored_at) < turn.lastAttemptAt - 1) {
      check.storedByEarlierAttempt++;
      if (Number(answer.stored_at) < turn.lastAttemptAt - 1) check.answeredByEarlierAttempt++;
    }
    if (!same) {
      check.acknowledgedAltered++;
      problem(
        `acknowledged turn ${turn.clientMessageId}: told question ${acked.user.id}/seq ${acked.user.seq}, answer ` +
          `${acked.bot.id}/seq ${acked.bot.seq}; stored ${question.id}/seq ${question.seq}, ${answer.id}/seq ${answer.seq}`,
      );
    }
  }
  for (const row of rows) {
    if (row.id !== null && !known.has(row.id)) {
      check.strangers++;
      problem(`message ${row.id} (seq ${row.seq}, ${row.sender}) in ${row.session_uuid} belongs to no turn of the run`);
    }
  }
  return check;
}

/**
 * Connections to the server other than this one (the service's and anything left over).
 *
 * @param {string} url
 */
export async function countOtherConnections(url) {
  const sql = postgres(url, { max: 1, onnotice: () => {} });
  try {
    const [{ count }] = await sql`
      select count(*)::int as count from pg_stat_activity
      where backend_type = 'client backend' and pid <> pg_backend_pid()`;
    return /** @type {number} */ (count);
  } finally {
    await sql.end({ timeout: 2 }).catch(() => {});
  }
}

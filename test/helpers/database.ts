import { env } from "cloudflare:workers";
import postgres from "postgres";
import { createDatabase, type Database } from "../../src/db/client";

/**
 * A direct SQL client over the same Hyperdrive binding the Worker uses, for setting up and
 * inspecting rows. Made per test, never at module scope, and never ended (see src/db/client.ts).
 */
export function openSql(connectionString = env.HYPERDRIVE.connectionString) {
  return postgres(connectionString, { max: 5, fetch_types: false, onnotice: () => {} });
}

/**
 * The service's database client, recording every statement it sends with its parameters, so that
 * a test can EXPLAIN exactly what a route's query function runs.
 */
export function recordingDatabase(): { db: Database; sent: { sql: string; params: unknown[] }[] } {
  const db = createDatabase(env.HYPERDRIVE.connectionString, 5000);
  const sent: { sql: string; params: unknown[] }[] = [];
  const send = db.$client.unsafe;
  db.$client.unsafe = ((text: string, params: unknown[], options: unknown) => {
    sent.push({ sql: text, params });
    return send(text, params as never[], options as never);
  }) as typeof send;
  return { db, sent };
}

/**
 * The service's database client with every statement sent through `sql` (a transaction, say) as
 * EXPLAIN, not run: `plans` holds the plan of exactly what a query function sends, with its
 * values, over the rows that `sql` sees. What the query function returns is of no use.
 */
export function explainingDatabase(sql: postgres.TransactionSql): { db: Database; plans: string[] } {
  // Its own connection is never opened: every statement goes through `sql`.
  const db = createDatabase(env.HYPERDRIVE.connectionString, 5000);
  const plans: string[] = [];
  db.$client.unsafe = ((text: string, params: unknown[]) => ({
    values: async () => {
      const rows = await sql.unsafe(`explain ${text}`, params as never[]).values();
      plans.push(rows.map(([line]) => String(line)).join("\n"));
      return rows;
    },
  })) as unknown as typeof db.$client.unsafe;
  return { db, plans };
}

export type SeededSession = { id: number; uuid: string };

/**
 * Inserts a session whose last activity was at `lastActivity`, as the service would have stored
 * it: `messages` alternating questions and answers (each answer replying to the question before
 * it, with one source), one second apart, the last one at `lastActivity`. Without messages, the
 * session was created at `lastActivity`. For sessions older than the service itself could make.
 */
export async function seedSession(
  sql: ReturnType<typeof openSql>,
  { lastActivity, messages = 0 }: { lastActivity: Date; messages?: number },
): Promise<SeededSession> {
  const uuid = crypto.randomUUID();
  const last = lastActivity.toISOString();
  const [session] = await sql<{ id: string }[]>`
    insert into chat_sessions (session_uuid, created_at, last_message_at, message_count, failures)
    values (${uuid}, ${last}::timestamptz - make_interval(secs => ${messages}),
      ${messages > 0 ? last : null}::timestamptz, ${messages}, ${messages % 2})
    returning id`;
  const id = Number(session!.id);
  if (messages > 0) {
    await sql`
      with questions as (
        insert into chat_messages (session_id, seq, sender, message, timestamp)
        select ${id}, seq, 'user', 'Question ' || seq, ${last}::timestamptz - make_interval(secs => ${messages} - seq)
        from generate_series(1, ${messages}, 2) seq
        returning id, seq)
      insert into chat_messages (session_id, seq, sender, message, timestamp, reply_to_id, sources)
      select ${id}, questions.seq + 1, 'bot', 'Answer ' || questions.seq + 1,
        ${last}::timestamptz - make_interval(secs => ${messages} - questions.seq - 1), questions.id,
        jsonb_build_array(jsonb_build_object('title', 'Chapter ' || questions.seq, 'url', 'https://book.example/ch' || questions.seq, 'snippet', 'A passage.', 'score', 0.5))
      from questions where questions.seq < ${messages}`;
  }
  return { id, uuid };
}

/**
 * The SQL that the statements of db/ share: how templates name columns, the columns of a message
 * that statements read, and who may use a session (expiry and ownership). Every statement's text
 * is built once per isolate (./statement.ts), with placeholders for the values that each request
 * fills; the retention period and the request's reader are such values.
 */
import { getTableColumns, type SQL, sql } from "drizzle-orm";
import type { PgColumn, PgTable } from "drizzle-orm/pg-core";
import type { PostgresJsDatabase } from "drizzle-orm/postgres-js";
import type { Reader } from "../reader";
import { chatMessages, chatSessions, readers, sessionActivity } from "./schema";

/** A value that `execute` fills by name each time the statement runs: `${placeholder("sessionUuid")}`. */
export const placeholder = sql.placeholder;

/** A column's bare name, for the places SQL does not take a qualified one (SET, ON CONFLICT). */
export function name(column: PgColumn): ReturnType<typeof sql.identifier> {
  return sql.identifier(column.name);
}

type ColumnKey<T extends PgTable> = keyof T["_"]["columns"] & keyof T & string;

/** Columns of `table`, qualified, as SELECT and RETURNING list them: `returning ${columns(chatSessions, "id")}`. */
export function columns<T extends PgTable>(table: T, ...keys: ColumnKey<T>[]): SQL {
  return sql.join(
    keys.map((key) => table[key] as PgColumn),
    sql`, `,
  );
}

/**
 * Columns of `table` by their bare names, as INSERT lists its target columns:
 * `insert into ${chatMessages} (${columnNames(chatMessages, "sessionId", "seq")})`.
 */
export function columnNames<T extends PgTable>(table: T, ...keys: ColumnKey<T>[]): SQL {
  return sql.join(
    keys.map((key) => name(table[key] as PgColumn)),
    sql`, `,
  );
}

/**
 * A message's columns but its search vector, in a table or an alias of it. Only the admin search
 * reads the vector, in SQL: any other statement that named it would send it over the wire (it is
 * as big as the text) for nothing.
 */
export function messageColumnsOf<T extends { searchVector: unknown }>(columns: T): Omit<T, "searchVector"> {
  const { searchVector: _, ...rest } = columns;
  return rest;
}

/** Every column of a message a statement reads or returns (ChatMessage). */
export const messageColumns = messageColumnsOf(getTableColumns(chatMessages));

const messageColumnKeys = Object.keys(messageColumns) as (keyof typeof messageColumns)[];

/** RETURNING of a statement that writes a message: messageColumns, in the same order. */
export const returningMessage = sql`returning ${columns(chatMessages, ...messageColumnKeys)}`;

/**
 * True for a message brought in by POST /api/sessions/import (lifecycle/import.ts marks each one),
 * not asked here: the admin figures leave it out of questions, answers and failures.
 */
export function importedMessage(message: { metadata: PgColumn }): SQL<boolean> {
  return sql<boolean>`coalesce(${message.metadata} -> 'imported' = 'true'::jsonb, false)`;
}

/**
 * How many days a session is kept after its last activity (config.ts, SESSION_RETENTION_DAYS);
 * null keeps every session.
 */
export type RetentionDays = number | null;

/** When a session was last active, as chat_sessions_activity_idx has it. */
export const lastActivity = sessionActivity(chatSessions);

/**
 * True for a session that has not expired, with the retention period as the `retentionDays`
 * value (null: none expires). An expired session is gone for every request from the moment it
 * expires, whether or not the hourly purge (lifecycle/retention.ts) has deleted it yet, so no
 * request ever sees part of a session that is being deleted in batches.
 */
export const unexpired = sql<boolean>`(${placeholder("retentionDays")}::int is null
  or ${lastActivity} >= now() - make_interval(days => ${placeholder("retentionDays")}::int))`;

/**
 * Who asks for a session by its UUID, and so what they may use: a live session (retentionDays)
 * that is anonymous or the signed-in reader's own (reader, null for an anonymous request).
 */
export type SessionAccess = { retentionDays: RetentionDays; reader: Reader | null };

/** A statement's values for SessionAccess: the placeholders `unexpired` and `requestReaderId` read. */
export function accessValues(access: SessionAccess) {
  return {
    retentionDays: access.retentionDays,
    readerIssuer: access.reader?.issuer ?? null,
    readerSubject: access.reader?.subject ?? null,
  };
}

/** The readers row of the request's signed-in reader; null for an anonymous request, or a new reader. */
export const requestReaderId = sql<number | null>`(select ${readers.id} from ${readers}
  where ${readers.issuer} = ${placeholder("readerIssuer")}::text and ${readers.subject} = ${placeholder("readerSubject")}::text)`;

/**
 * True for a session the request may use: anonymous, or the signed-in reader's own. To anyone
 * else a session a reader owns is what a session that does not exist is (404 session_not_found),
 * so that holding its UUID alone is no longer enough, and an owned session cannot be probed.
 */
export const ownedByRequest = sql<boolean>`(${chatSessions.readerId} is null or ${chatSessions.readerId} = ${requestReaderId})`;

/** A session the request may use by its UUID: live and ownedByRequest. */
export const usable = sql<boolean>`(${unexpired} and ${ownedByRequest})`;

/**
 * The request's signed-in reader as a readers row, made on first use: a data-modifying WITH step
 * for the statements that create a session, which take `(select id from reader_row)` as its
 * owner (null for an anonymous request). DO UPDATE, not DO NOTHING, so that the row is returned
 * also when another request inserted it concurrently.
 */
export function readerRow(db: PostgresJsDatabase) {
  return db.$with("reader_row", { id: readers.id }).as(sql`
    insert into ${readers} (${columnNames(readers, "issuer", "subject")})
    select ${placeholder("readerIssuer")}::text, ${placeholder("readerSubject")}::text
    where ${placeholder("readerSubject")}::text is not null
    on conflict (${columnNames(readers, "issuer", "subject")})
      do update set ${name(readers.issuer)} = excluded.${name(readers.issuer)}
    returning ${readers.id}`);
}

export type ReaderRow = ReturnType<typeof readerRow>;

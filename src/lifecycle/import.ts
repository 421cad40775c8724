/**
 * A browser transcript becomes a server session in one call (POST /api/sessions/import,
 * docs/api.md §15). The import is idempotent by the client's import_id: the session row keeps
 * the import_id (unique) and a SHA-256 of the transcript, so a retry finds its session and tells
 * the same transcript from another one.
 */
import type { Database } from "../db/client";
import type { SessionAccess } from "../db/fragments";
import { findImportedSession, type ImportedMessage, importSession } from "../db/lifecycle";
import type { ChatSession } from "../db/schema";
import { ApiError } from "../http/problem";
import type { ImportRequest, TranscriptMessage } from "../schemas/import";

export async function importTranscript(
  db: Database,
  request: ImportRequest,
  access: SessionAccess,
): Promise<ChatSession> {
  const importHash = await transcriptHash(request.messages);
  const messages = numbered(request.messages);
  // A second round only if the session that held this import_id was erased in between.
  for (let attempt = 0; attempt < 2; attempt++) {
    const created = await importSession(db, {
      sessionUuid: crypto.randomUUID(),
      importId: request.import_id,
      importHash,
      messages,
      metadata: { imported: true, import_id: request.import_id },
      reader: access.reader,
    });
    if (created) return created;

    const existing = await findImportedSession(db, request.import_id, access);
    if (!existing) continue;
    // Another reader's import: as used as any other import_id, and nothing of it is told.
    if (existing.session.importHash !== importHash || !existing.ownedByRequest) {
      throw new ApiError("idempotency_conflict", "import_id was already used for a different transcript");
    }
    if (!existing.live) {
      throw new ApiError(
        "idempotency_conflict",
        "import_id was used for a session that has expired since; import again with a new import_id",
      );
    }
    return existing.session;
  }
  throw new Error("the session of this import_id was erased twice while it was being imported");
}

/**
 * The transcript's identity: what is stored of it, in a fixed order, so that a retry that spells
 * it differently (key order, unknown fields, a timestamp's offset) is still the same transcript.
 */
async function transcriptHash(messages: TranscriptMessage[]): Promise<string> {
  const canonical = JSON.stringify(
    messages.map((m) => [
      m.sender,
      m.message,
      m.timestamp,
      m.status,
      m.sources.map((s) => [s.title, s.url, s.snippet, s.score]),
      // Only when there is feedback, so that a transcript without any keeps the identity it had
      // before imports took feedback, and its retry is still recognised.
      ...(m.feedback ? [[m.feedback.rating, m.feedback.comment, m.feedback.at]] : []),
    ]),
  );
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(canonical));
  return [...new Uint8Array(digest)].map((byte) => byte.toString(16).padStart(2, "0")).join("");
}

/**
 * Numbers the messages 1..n in the transcript's order and gives each one without a timestamp the
 * one before it (or, at the start, the first one given), so that time never goes backwards; a
 * transcript without any timestamp takes the import's time (importSession).
 */
function numbered(messages: TranscriptMessage[]): ImportedMessage[] {
  let carried = messages.find((m) => m.timestamp !== null)?.timestamp ?? null;
  return messages.map((m, index) => {
    carried = m.timestamp ?? carried;
    return {
      seq: index + 1,
      sender: m.sender,
      message: m.message,
      at: carried,
      status: m.status,
      sources: m.sources,
      replyToSeq: m.answers === null ? null : m.answers + 1,
      feedback: m.feedback,
    };
  });
}

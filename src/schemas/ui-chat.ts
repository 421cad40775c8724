/**
 * The request of POST /api/ui/chat (docs/api.md §12): the body the AI SDK's `useChat` sends, in
 * either of its forms, read down to what a turn needs: the session, the question, its key.
 */
import { z } from "zod";
import { storableText } from "../storable-text";
import { questionSchema } from "./chat";
import { uuidSchema } from "./uuid";

/**
 * The whole conversation, which DefaultChatTransport sends by default, is read only for its last
 * message, but it still has to arrive: 256 KiB holds some sixty turns of ordinary length. Longer
 * chats send the last message only (prepareSendMessagesRequest), as the SDK's persistence guide does.
 */
export const maxUiChatBodyBytes = 256 * 1024;

const maxUiIdLength = 256;

/**
 * Hashed into the turn's key as UTF-8, which has no lone surrogates: TextEncoder would make
 * "msg-\ud800" and "msg-\udfff" one key, so an id that is not storable text is refused.
 */
const uiMessageId = z
  .string({ error: "must be a string" })
  .min(1, "must not be empty")
  .max(maxUiIdLength, `must be at most ${maxUiIdLength} characters`)
  .check(storableText);

/**
 * The newest message: the question. Only text can be asked; its text parts joined are the
 * question, under the same rules as POST /api/chat's `question`.
 */
const userMessageSchema = z
  .object(
    {
      id: uiMessageId.describe(
        "The message's id on the client; it names the turn (its idempotency key). No U+0000, no lone surrogates",
      ),
      role: z.literal("user", { error: 'must be "user": the newest message is the question to answer' }),
      parts: z
        .array(
          z.object(
            {
              type: z.literal("text", { error: 'must be "text": only text can be asked' }),
              text: z.string({ error: "must be a string" }),
            },
            { error: "must be a message part" },
          ),
          { error: "must be an array of message parts" },
        )
        .min(1, "must hold the question's text")
        .transform((parts) => parts.map((part) => part.text).join("\n\n"))
        .pipe(questionSchema),
    },
    { error: "must be a UI message" },
  )
  .transform(({ id, parts }) => ({ id, question: parts }));

// RFC 9562's name-based UUIDs are SHA-1 of a namespace and a name; this namespace is the service's
// own (4bd0a2c6-66b4-4c36-9a4e-4d36a5b1e0c2, docs/api.md §12.2), so no other derivation gives the
// same keys.
const uiMessageNamespace = Uint8Array.from("4bd0a2c666b44c369a4e4d36a5b1e0c2".match(/../g)!, (byte) =>
  Number.parseInt(byte, 16),
);

/**
 * The client_message_id of a turn asked with UI message `id`: the id itself when it is a UUID,
 * otherwise the name-based (version 5) UUID of it. The same message sent again maps to the same
 * key, so a retried or regenerated message is stored once, as a retried POST /api/chat is.
 */
async function clientMessageIdOf(id: string): Promise<string> {
  const uuid = uuidSchema.safeParse(id);
  if (uuid.success) return uuid.data;
  const name = new TextEncoder().encode(id);
  const input = new Uint8Array(uiMessageNamespace.length + name.length);
  input.set(uiMessageNamespace);
  input.set(name, uiMessageNamespace.length);
  const bytes = new Uint8Array(await crypto.subtle.digest("SHA-1", input)).slice(0, 16);
  bytes[6] = (bytes[6]! & 0x0f) | 0x50;
  bytes[8] = (bytes[8]! & 0x3f) | 0x80;
  const hex = Array.from(bytes, (byte) => byte.toString(16).padStart(2, "0")).join("");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

export const uiChatTriggers = ["submit-message", "regenerate-message"] as const;

/**
 * Both bodies of the SDK: DefaultChatTransport's `{id, messages, trigger, messageId}` and the
 * persistence guide's `{id, message, trigger, messageId}`. Of `messages` only the last one is read:
 * the earlier ones are the client's copy of a history the server holds, and never trusted.
 */
export const uiChatRequestSchema = z
  .object(
    {
      id: z
        .string({ error: "must be a string" })
        .max(maxUiIdLength, `must be at most ${maxUiIdLength} characters`)
        .nullish()
        .describe("The chat's id: a session UUID continues that session; anything else, or none, starts one"),
      message: userMessageSchema.optional().describe("The newest message, the question (the last-message-only body)"),
      messages: z
        .array(z.unknown(), { error: "must be an array of UI messages" })
        .min(1, "must hold the question")
        .optional()
        .describe("The whole chat (DefaultChatTransport's default body): only the last message is read"),
      trigger: z
        .enum(uiChatTriggers, { error: 'must be "submit-message" or "regenerate-message"' })
        .default("submit-message")
        .describe("regenerate-message retries the newest question (docs/api.md §12.3)"),
      messageId: z
        .string({ error: "must be a string" })
        .nullish()
        .describe("Sent by the SDK on regenerate and edits; not used"),
    },
    { error: "must be a JSON object" },
  )
  .transform(async (body, context) => {
    let newest = body.message;
    if (!newest) {
      if (!body.messages) {
        context.addIssue({ code: "custom", path: ["message"], message: "is required, or messages" });
        return z.NEVER;
      }
      const index = body.messages.length - 1;
      const parsed = await userMessageSchema.safeParseAsync(body.messages[index]);
      if (!parsed.success) {
        for (const issue of parsed.error.issues) {
          context.addIssue({ code: "custom", path: ["messages", index, ...issue.path], message: issue.message });
        }
        return z.NEVER;
      }
      newest = parsed.data;
    }
    const session = uuidSchema.safeParse(body.id);
    return {
      // Read by the session middleware, as POST /api/chat's body field of the same name.
      session_uuid: session.success ? session.data : undefined,
      question: newest.question,
      client_message_id: await clientMessageIdOf(newest.id),
    };
  });

export type UiChatRequest = z.output<typeof uiChatRequestSchema>;

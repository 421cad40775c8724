/**
 * The named schemas of the OpenAPI document, generated from the same zod schemas that validate the
 * requests (src/schemas) and describe the answers (src/schemas/responses.ts, the problem in
 * src/http/problem.ts), and the two event streams, which JSON Schema cannot say alone.
 */
import { z } from "zod";
import { problemSchema } from "../http/problem";
import { chatRequestSchema } from "../schemas/chat";
import { feedbackRequestSchema } from "../schemas/feedback";
import { importRequestSchema } from "../schemas/import";
import {
  claimRequestSchema,
  claimResponseSchema,
  erasedSchema,
  readerSessionSchema,
  readerSessionsPageSchema,
  renamedSessionSchema,
  renameRequestSchema,
} from "../schemas/readers";
import {
  adminMessageSchema,
  adminSessionSchema,
  adminSessionsPageSchema,
  chatResponseSchema,
  chatStreamEventSchemas,
  citedPassageSchema,
  citedSourceSchema,
  citedSourcesPageSchema,
  contentGapSchema,
  contentGapsPageSchema,
  conversationSchema,
  feedbackSchema,
  frequentQuestionSchema,
  frequentQuestionsPageSchema,
  healthSchema,
  historyPageSchema,
  messageSchema,
  ratedDownAnswerSchema,
  ratedDownPageSchema,
  searchHitSchema,
  searchPageSchema,
  sessionCreatedSchema,
  sessionExportSchema,
  sessionSummarySchema,
  sourceSchema,
  statsBucketSchema,
  statsFiguresSchema,
  statsSchema,
  uiAnswerStartMetadataSchema,
  uiMessageChunkSchemas,
  uiMessageMetadataSchema,
  uiMessagePageSchema,
  uiMessageSchema,
  uiSourceDocumentSchema,
  uiSourceUrlSchema,
  uncitedPassagesPageSchema,
} from "../schemas/responses";
import { uiChatRequestSchema } from "../schemas/ui-chat";
import type { Json } from "./declarations";

export const schemaRef = (name: string) => ({ $ref: `#/components/schemas/${name}` });

/** A JSON body of this schema. */
export const json = (schema: Json) => ({ "application/json": { schema } });

/** The named schemas, each converted once, with references between them. */
export function componentSchemas(): Record<string, Json> {
  const requests = z.registry<{ id: string }>();
  requests.add(chatRequestSchema, { id: "ChatRequest" });
  requests.add(importRequestSchema, { id: "ImportRequest" });
  requests.add(feedbackRequestSchema, { id: "FeedbackRequest" });
  requests.add(uiChatRequestSchema, { id: "UiChatRequest" });
  requests.add(claimRequestSchema, { id: "ClaimRequest" });
  requests.add(renameRequestSchema, { id: "RenameRequest" });
  const responses = z.registry<{ id: string }>();
  for (const [id, schema] of Object.entries({
    Source: sourceSchema,
    Feedback: feedbackSchema,
    Message: messageSchema,
    ChatResponse: chatResponseSchema,
    HistoryPage: historyPageSchema,
    Session: sessionSummarySchema,
    SessionCreated: sessionCreatedSchema,
    SessionExport: sessionExportSchema,
    Health: healthSchema,
    Problem: problemSchema,
    ChatStreamStart: chatStreamEventSchemas.start,
    ChatStreamDelta: chatStreamEventSchemas.delta,
    ChatStreamDone: chatStreamEventSchemas.done,
    AdminSession: adminSessionSchema,
    AdminSessionsPage: adminSessionsPageSchema,
    AdminMessage: adminMessageSchema,
    Conversation: conversationSchema,
    SearchHit: searchHitSchema,
    SearchPage: searchPageSchema,
    ContentGap: contentGapSchema,
    ContentGapsPage: contentGapsPageSchema,
    CitedPassage: citedPassageSchema,
    RatedDownAnswer: ratedDownAnswerSchema,
    RatedDownPage: ratedDownPageSchema,
    StatsFigures: statsFiguresSchema,
    StatsBucket: statsBucketSchema,
    CitedSource: citedSourceSchema,
    Stats: statsSchema,
    FrequentQuestion: frequentQuestionSchema,
    FrequentQuestionsPage: frequentQuestionsPageSchema,
    CitedSourcesPage: citedSourcesPageSchema,
    UncitedPassagesPage: uncitedPassagesPageSchema,
    UiMessage: uiMessageSchema,
    UiMessageMetadata: uiMessageMetadataSchema,
    UiAnswerStartMetadata: uiAnswerStartMetadataSchema,
    UiMessagePage: uiMessagePageSchema,
    UiSourceUrl: uiSourceUrlSchema,
    UiSourceDocument: uiSourceDocumentSchema,
    UiChunkStart: uiMessageChunkSchemas.start,
    UiChunkTextStart: uiMessageChunkSchemas["text-start"],
    UiChunkTextDelta: uiMessageChunkSchemas["text-delta"],
    UiChunkTextEnd: uiMessageChunkSchemas["text-end"],
    UiChunkFinish: uiMessageChunkSchemas.finish,
    UiChunkError: uiMessageChunkSchemas.error,
    ReaderSession: readerSessionSchema,
    ReaderSessionsPage: readerSessionsPageSchema,
    RenamedSession: renamedSessionSchema,
    ClaimResponse: claimResponseSchema,
    Erased: erasedSchema,
  })) {
    responses.add(schema, { id });
  }
  const convert = (registry: typeof requests, io: "input" | "output") =>
    z.toJSONSchema(registry, { io, unrepresentable: "any", uri: (id) => `#/components/schemas/${id}` }).schemas;
  const schemas = { ...convert(requests, "input"), ...convert(responses, "output") } as Record<string, Json>;
  for (const schema of Object.values(schemas)) {
    delete schema.$schema;
    delete schema.$id;
  }
  return {
    ...schemas,
    ChatEventStream: {
      type: "string",
      description:
        "Server-sent events, each `event: <name>` then `data: <JSON>`: one `start` (ChatStreamStart), " +
        "`delta` events (ChatStreamDelta) whose texts joined are the answer, then `done` (ChatStreamDone) " +
        "or `error` (Problem). Pieces are batched: the first at once, then at most one event per 50 ms.",
      "x-events": {
        start: schemaRef("ChatStreamStart"),
        delta: schemaRef("ChatStreamDelta"),
        done: schemaRef("ChatStreamDone"),
        error: schemaRef("Problem"),
      },
      examples: [
        'event: start\ndata: {"session_uuid":"…","user_message":{…}}\n\nevent: delta\ndata: {"text":"The ZMP is"}\n\n' +
          'event: done\ndata: {"bot_message":{…}}\n\n',
      ],
    },
    UiMessageStream: uiMessageStream(),
  };
}

/**
 * The AI SDK's UI message stream (docs/api.md §12.4). Its events have no name: each one's data is
 * a chunk whose `type` says what it is, and the last one's data is `[DONE]`, which is not JSON.
 */
function uiMessageStream(): Json {
  const chunks: Record<string, string> = {
    start: "UiChunkStart",
    "text-start": "UiChunkTextStart",
    "text-delta": "UiChunkTextDelta",
    "text-end": "UiChunkTextEnd",
    "source-url": "UiSourceUrl",
    "source-document": "UiSourceDocument",
    finish: "UiChunkFinish",
    error: "UiChunkError",
  };
  return {
    type: "string",
    description:
      "Server-sent events of the AI SDK's UI message stream protocol (v1), each `data: <JSON chunk>` with no " +
      "event name: `start` (UiChunkStart), then the text as `text-start`, `text-delta`s whose deltas joined are " +
      "the answer (at most one per 50 ms after the first) and `text-end`, a `source-url` (UiSourceUrl) or " +
      "`source-document` (UiSourceDocument) per passage, and `finish` (UiChunkFinish); or, when the answer " +
      "fails, `error` (UiChunkError) after the text sent. The last event's data is `[DONE]`.",
    "x-events": {
      message: {
        oneOf: Object.values(chunks).map(schemaRef),
        discriminator: {
          propertyName: "type",
          mapping: Object.fromEntries(
            Object.entries(chunks).map(([type, name]) => [type, `#/components/schemas/${name}`]),
          ),
        },
      },
    },
    "x-end": "[DONE]",
    examples: [
      'data: {"type":"start","messageId":"answer-1234","messageMetadata":{"session_uuid":"…","new_session":true,' +
        '"user_message":{"id":1234,"seq":1}}}\n\ndata: {"type":"text-start","id":"text"}\n\n' +
        'data: {"type":"text-delta","id":"text","delta":"The ZMP is"}\n\ndata: {"type":"text-end","id":"text"}\n\n' +
        'data: {"type":"finish","finishReason":"stop","messageMetadata":{…}}\n\ndata: [DONE]\n\n',
    ],
  };
}

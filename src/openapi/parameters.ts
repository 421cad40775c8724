/** Parameters of the document that are not a validated query (those come from their zod schema). */
import { z } from "zod";
import { feedbackPathSchema } from "../schemas/feedback";
import { uuidSchema } from "../schemas/uuid";
import type { Json } from "./declarations";

export function uuidParameter(name: string, location: "path" | "header", description: string): Json {
  const { $schema: _, ...schema } = z.toJSONSchema(uuidSchema, { io: "input" }) as Json;
  return {
    name,
    in: location,
    required: location === "path",
    description,
    // No example: Swagger UI's "Try it out" sends what is pre-filled, and a made-up UUID names no
    // session, so it would answer 404. Empty, the header is left out and the path asks to be filled.
    schema: { ...schema, format: "uuid" },
  };
}

/** The query parameters of a zod schema, each described by its own `.describe()`. */
export function queryParameters(schema: z.ZodType): Json[] {
  const { properties, required = [] } = z.toJSONSchema(schema, { io: "input" }) as {
    properties: Record<string, Json>;
    required?: string[];
  };
  return Object.entries(properties).map(([name, { description, ...rules }]) => ({
    name,
    in: "query",
    required: required.includes(name),
    description,
    schema: rules,
  }));
}

export const sessionPathParameter = () =>
  uuidParameter("session_uuid", "path", "The session's UUID, in any letter case");

export const messageIdPathParameter = (): Json => ({
  name: "message_id",
  in: "path",
  required: true,
  description: "The answer's id, as the history shows it",
  schema: (z.toJSONSchema(feedbackPathSchema, { io: "input" }) as { properties: Record<string, Json> }).properties
    .message_id,
});

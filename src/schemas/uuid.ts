import { z } from "zod";

// Both letter cases spelled out (no /i flag), so the pattern reads the same in the OpenAPI document.
const canonicalUuid = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;

/** docs/api.md §1: the canonical 8-4-4-4-12 form in any letter case, always handled in lower case. */
export const uuidSchema = z
  .string({ error: "must be a string" })
  .regex(canonicalUuid, "must be a UUID in the 8-4-4-4-12 hex form")
  .meta({ format: "uuid" })
  .transform((value) => value.toLowerCase());

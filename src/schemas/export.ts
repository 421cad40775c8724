import { z } from "zod";

export const exportFormats = ["json", "markdown"] as const;
export type ExportFormat = (typeof exportFormats)[number];

export const exportQuerySchema = z.object({
  format: z
    .enum(exportFormats, { error: 'must be "json" or "markdown"' })
    .default("json")
    .describe("json (default): importable back; markdown: for reading"),
});

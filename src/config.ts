import { z } from "zod";

/** Every configuration value the Worker reads, parsed in this one place. */
const configSchema = z.object({
  CORS_ORIGINS: z
    .string()
    .default("")
    .transform((value) =>
      value
        .split(",")
        .map((origin) => origin.trim())
        .filter(Boolean),
    ),
  LLM_TIMEOUT_MS: z.coerce.number().int().positive().default(30_000),
});

export type Config = z.infer<typeof configSchema>;

// Parsed once per isolate and env object, not per request.
const parsed = new WeakMap<object, Config>();

export function readConfig(env: Env): Config {
  let config = parsed.get(env);
  if (!config) {
    config = configSchema.parse(env);
    parsed.set(env, config);
  }
  return config;
}

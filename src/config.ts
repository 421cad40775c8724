import { z } from "zod";

/**
 * Every configuration value the Worker reads, parsed in this one place. Errors name the
 * variable, never its value: some values are secrets.
 */
const optionalText = z
  .string()
  .optional()
  .transform((value) => (value?.trim() ? value.trim() : undefined));

const count = (name: string, fallback: number, min: number, max: number) =>
  z
    .string()
    .optional()
    .transform((value, context) => {
      if (!value?.trim()) return fallback;
      const parsed = Number(value);
      if (!Number.isInteger(parsed) || parsed < min || parsed > max) {
        context.addIssue({ code: "custom", message: `${name} must be an integer from ${min} to ${max}` });
        return z.NEVER;
      }
      return parsed;
    });

const httpUrl = (name: string) =>
  optionalText.refine(
    (value) => value === undefined || /^https?:\/\/[^\s/]+/.test(value),
    `${name} must be an http(s) URL`,
  );

/**
 * The longest a request waits on the database in all, connecting included. Neon documents a few
 * hundred milliseconds for waking a suspended compute, more for large projects; 5 s leaves room
 * for that and for the statement itself, so the first request after an idle period succeeds.
 * The database stops statements itself sooner (drizzle/0001: statement_timeout 4 s, lock_timeout
 * 2 s); this deadline is for what it cannot stop, a database or network that stops answering.
 */
const defaultDatabaseTimeoutMs = 5_000;

/** The default retention period: a year after a session's last activity. */
export const defaultRetentionDays = 365;

const retentionDaysSchema = count("SESSION_RETENTION_DAYS", defaultRetentionDays, 0, 36_500);

const configSchema = z.object({
  CORS_ORIGINS: z
    .string()
    .optional()
    .transform((value) =>
      (value ?? "")
        .split(",")
        .map((origin) => origin.trim())
        .filter(Boolean),
    ),
  LLM_BASE_URL: httpUrl("LLM_BASE_URL"),
  LLM_API_KEY: optionalText,
  LLM_MODEL: optionalText,
  EMBEDDING_MODEL: optionalText,
  QDRANT_URL: httpUrl("QDRANT_URL"),
  QDRANT_API_KEY: optionalText,
  QDRANT_COLLECTION: optionalText,
  QDRANT_TITLE_KEY: optionalText,
  QDRANT_URL_KEY: optionalText,
  QDRANT_TEXT_KEY: optionalText,
  RAG_TOP_K: count("RAG_TOP_K", 5, 1, 50),
  HISTORY_TURNS: count("HISTORY_TURNS", 10, 0, 100),
  LLM_TIMEOUT_MS: count("LLM_TIMEOUT_MS", 30_000, 1, 600_000),
  DB_TIMEOUT_MS: count("DB_TIMEOUT_MS", defaultDatabaseTimeoutMs, 100, 60_000),
});

type RawConfig = z.infer<typeof configSchema>;

export type ModelConfig = { baseUrl: string; apiKey: string | undefined; model: string };
export type RetrievalConfig = {
  url: string;
  apiKey: string | undefined;
  collection: string;
  embeddingModel: string;
  topK: number;
  payloadKeys: { title: string; url: string; text: string };
};

/** Which answer generator the configuration asks for; `unavailable` says what is wrong. */
export type AnswerConfig =
  | { kind: "echo" }
  | { kind: "rag"; model: ModelConfig; retrieval: RetrievalConfig | null }
  | { kind: "unavailable"; problem: string };

export type Config = {
  corsOrigins: string[];
  /**
   * Whether requests are limited per client address (RATE_LIMITS, on by default). CHAT_RATE_LIMIT
   * is its earlier name, when only the chat was limited; "off" in either turns every limit off.
   */
  rateLimits: boolean;
  /** How long a turn may wait for its answer (LLM_TIMEOUT_MS). */
  answerTimeoutMs: number;
  /** How many earlier messages of the session the model sees (HISTORY_TURNS). */
  historyTurns: number;
  /** How long a request may wait on the database in all (DB_TIMEOUT_MS). */
  databaseTimeoutMs: number;
  /**
   * The operators' bearer token (ADMIN_TOKEN, a secret); undefined leaves the admin API and page
   * switched off. Parsed apart from the answer settings, so that a bad model setting cannot
   * switch the admin surface off.
   */
  adminToken: string | undefined;
  /** What is wrong with ADMIN_TOKEN, naming the variable only; null when it is valid or unset. */
  adminProblem: string | null;
  answer: AnswerConfig;
  /**
   * How many days a session is kept after its last activity (SESSION_RETENTION_DAYS, 365 by
   * default); null keeps sessions forever (0). Null too while the value is invalid: a typo must
   * never delete anything.
   */
  retentionDays: number | null;
  /** What is wrong with SESSION_RETENTION_DAYS, naming the variable only; null when it is valid. */
  retentionProblem: string | null;
  /**
   * How readers' sign-in tokens are verified (AUTH_JWKS_URL, AUTH_ISSUER, AUTH_AUDIENCE,
   * AUTH_ALGORITHMS); null leaves the service anonymous-only, as it was before readers: a Bearer
   * header on a public route is then ignored. Null too while a setting is refused.
   */
  auth: AuthConfig | null;
  /** What is wrong with the AUTH_* settings, naming the variables only; null when they are valid. */
  authProblem: string | null;
};

export type AuthConfig = {
  jwksUrl: string;
  issuer: string;
  audience: string;
  /** The JWS algorithms a token may be signed with: asymmetric ones only. */
  algorithms: string[];
};

export const defaultLlmBaseUrl = "https://api.openai.com/v1";

// Parsed once per isolate and env object, not per request.
const parsed = new WeakMap<object, Config>();

export function readConfig(env: Env): Config {
  let config = parsed.get(env);
  if (!config) {
    config = parseConfig(env as unknown as Record<string, unknown>);
    parsed.set(env, config);
  }
  return config;
}

function parseConfig(env: Record<string, unknown>): Config {
  const strings = Object.fromEntries(
    Object.keys(configSchema.shape).map((key) => [key, typeof env[key] === "string" ? env[key] : undefined]),
  );
  const result = configSchema.safeParse(strings);
  // These keep working when an answer setting is invalid: a bad model setting must not switch off
  // CORS or the rate limit, nor change what is kept; nor a bad retention setting the answers.
  const corsOrigins = configSchema.shape.CORS_ORIGINS.parse(strings.CORS_ORIGINS);
  const rateLimits = env.RATE_LIMITS !== "off" && env.CHAT_RATE_LIMIT !== "off";
  const retention = retentionDaysSchema.safeParse(
    typeof env.SESSION_RETENTION_DAYS === "string" ? env.SESSION_RETENTION_DAYS : undefined,
  );
  const retentionDays = retention.success && retention.data > 0 ? retention.data : null;
  const retentionProblem = retention.success ? null : retention.error.issues.map((issue) => issue.message).join("; ");
  const { auth, authProblem } = authConfig(env);
  const adminToken = adminTokenOf(env.ADMIN_TOKEN);
  const adminProblem =
    adminToken === undefined && typeof env.ADMIN_TOKEN === "string" && env.ADMIN_TOKEN.trim() !== ""
      ? `ADMIN_TOKEN must be at least ${minAdminTokenLength} characters; the admin API and page are off`
      : null;
  if (!result.success) {
    const problem = result.error.issues.map((issue) => issue.message).join("; ");
    return {
      corsOrigins,
      rateLimits,
      answerTimeoutMs: 30_000,
      historyTurns: 10,
      databaseTimeoutMs: defaultDatabaseTimeoutMs,
      adminToken,
      adminProblem,
      answer: { kind: "unavailable", problem },
      retentionDays,
      retentionProblem,
      auth,
      authProblem,
    };
  }
  return {
    corsOrigins,
    rateLimits,
    answerTimeoutMs: result.data.LLM_TIMEOUT_MS,
    historyTurns: result.data.HISTORY_TURNS,
    databaseTimeoutMs: result.data.DB_TIMEOUT_MS,
    adminToken,
    adminProblem,
    answer: answerConfig(result.data),
    retentionDays,
    retentionProblem,
    auth,
    authProblem,
  };
}

/**
 * The token grants read access to every conversation, so a short one (a password someone might
 * guess, or a placeholder left in .dev.vars) leaves the admin surface off rather than open.
 */
export const minAdminTokenLength = 32;

function adminTokenOf(value: unknown): string | undefined {
  const token = typeof value === "string" ? value.trim() : "";
  return token.length >= minAdminTokenLength ? token : undefined;
}

/**
 * The JWS algorithms AUTH_ALGORITHMS may name: those verified with a public key. An HMAC one
 * (HS256…) would need the issuer's secret here, and would let anyone holding it mint tokens; "none"
 * is no signature at all.
 */
export const asymmetricAlgorithms = [
  "EdDSA",
  "Ed25519",
  "ES256",
  "ES384",
  "ES512",
  "RS256",
  "RS384",
  "RS512",
  "PS256",
  "PS384",
  "PS512",
] as const;

/** Better Auth signs with EdDSA (Ed25519) by default; Clerk, Auth0, Supabase and Firebase with RS256 or ES256. */
export const defaultAuthAlgorithms = ["EdDSA", "ES256", "RS256"];

const authSettings = ["AUTH_JWKS_URL", "AUTH_ISSUER", "AUTH_AUDIENCE"] as const;

/**
 * The three AUTH_* settings that name the issuer go together: with some but not all, or with one
 * refused, no token can be verified, and the service stays anonymous-only rather than guess.
 */
function authConfig(env: Record<string, unknown>): { auth: AuthConfig | null; authProblem: string | null } {
  const text = (name: string) => (typeof env[name] === "string" ? (env[name] as string).trim() : "");
  const problems: string[] = [];
  const algorithmsText = text("AUTH_ALGORITHMS");
  const algorithms = algorithmsText
    ? algorithmsText
        .split(",")
        .map((name) => name.trim())
        .filter(Boolean)
    : defaultAuthAlgorithms;
  const allowed: readonly string[] = asymmetricAlgorithms;
  if (algorithms.length === 0 || !algorithms.every((name) => allowed.includes(name))) {
    problems.push(`AUTH_ALGORITHMS may list only asymmetric JWS algorithms (${asymmetricAlgorithms.join(", ")})`);
  }
  const given = authSettings.filter((name) => text(name) !== "");
  if (given.length === 0) {
    return { auth: null, authProblem: problems.length > 0 ? withAnonymous(problems) : null };
  }
  const missing = authSettings.filter((name) => text(name) === "");
  if (missing.length > 0) problems.push(`${authSettings.join(", ")} go together: missing ${missing.join(", ")}`);
  const jwksUrl = text("AUTH_JWKS_URL");
  const url = httpUrl("AUTH_JWKS_URL").safeParse(jwksUrl);
  if (!url.success) problems.push(...url.error.issues.map((issue) => issue.message));
  if (problems.length > 0) return { auth: null, authProblem: withAnonymous(problems) };
  return {
    auth: {
      jwksUrl,
      issuer: text("AUTH_ISSUER"),
      audience: text("AUTH_AUDIENCE"),
      algorithms: [...new Set(algorithms)],
    },
    authProblem: null,
  };
}

function withAnonymous(problems: string[]): string {
  return `${problems.join("; ")}; readers' tokens are ignored`;
}

function answerConfig(raw: RawConfig): AnswerConfig {
  const modelSettings = [raw.LLM_BASE_URL, raw.LLM_API_KEY, raw.LLM_MODEL, raw.EMBEDDING_MODEL];
  const retrievalSettings = [raw.QDRANT_URL, raw.QDRANT_API_KEY, raw.QDRANT_COLLECTION];
  if ([...modelSettings, ...retrievalSettings].every((value) => value === undefined)) {
    return { kind: "echo" };
  }

  const missing: string[] = [];
  if (!raw.LLM_MODEL) missing.push("LLM_MODEL");
  // OpenAI itself needs a key; a self-hosted server at another LLM_BASE_URL may not.
  if (!raw.LLM_API_KEY && !raw.LLM_BASE_URL) missing.push("LLM_API_KEY");
  const wantsRetrieval = retrievalSettings.some((value) => value !== undefined);
  if (wantsRetrieval) {
    if (!raw.QDRANT_URL) missing.push("QDRANT_URL");
    if (!raw.QDRANT_COLLECTION) missing.push("QDRANT_COLLECTION");
    if (!raw.EMBEDDING_MODEL) missing.push("EMBEDDING_MODEL");
  }
  if (missing.length > 0) return { kind: "unavailable", problem: `missing ${missing.join(", ")}` };

  return {
    kind: "rag",
    model: {
      baseUrl: (raw.LLM_BASE_URL ?? defaultLlmBaseUrl).replace(/\/+$/, ""),
      apiKey: raw.LLM_API_KEY,
      model: raw.LLM_MODEL!,
    },
    retrieval: wantsRetrieval
      ? {
          url: raw.QDRANT_URL!.replace(/\/+$/, ""),
          apiKey: raw.QDRANT_API_KEY,
          collection: raw.QDRANT_COLLECTION!,
          embeddingModel: raw.EMBEDDING_MODEL!,
          topK: raw.RAG_TOP_K,
          payloadKeys: {
            title: raw.QDRANT_TITLE_KEY ?? "title",
            url: raw.QDRANT_URL_KEY ?? "url",
            text: raw.QDRANT_TEXT_KEY ?? "text",
          },
        }
      : null,
  };
}

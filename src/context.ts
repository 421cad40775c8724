import type { RequestIdVariables } from "hono/request-id";
import type { AnswerSetup } from "./answers/select";
import type { Database } from "./db/client";
import type { Reader } from "./reader";

/** The session a request concerns, as the session middleware resolved it. */
export type RequestSession = {
  uuid: string;
  /** Issued by this request: no row exists until the first message is stored. */
  issued: boolean;
};

export type AppEnv = {
  Bindings: Env;
  Variables: RequestIdVariables & {
    db: Database;
    session: RequestSession;
    answers: AnswerSetup;
    /** The signed-in reader the request's token names; null when anonymous (src/middleware/reader.ts). */
    reader: Reader | null;
  };
};

import { useState } from "react";
import type { GetToken } from "./book-chat";

/** The reader the site signed in, as the chat needs them. */
export type Reader = { email: string; getToken: GetToken };

/**
 * The book site's own sign-in, here Better Auth's email and password routes on the page's origin
 * (its session cookie goes along by itself). The chat needs only a token, which Better Auth's JWT
 * plugin gives at /api/auth/token (with its client: `authClient.token()`).
 */
export function SignIn({ reader, onChange }: { reader?: Reader; onChange: (reader?: Reader) => void }) {
  const [email, setEmail] = useState("");
  const [password, setPassword] = useState("");
  const [problem, setProblem] = useState<string>();
  const enter = (how: "sign-in" | "sign-up") => {
    // Better Auth wants a name at sign-up; the reader can change it on the site later.
    const name = how === "sign-up" ? { name: email.split("@")[0] } : {};
    post(`/api/auth/${how}/email`, { email, password, ...name })
      .then(() => onChange({ email, getToken: tokenSource() }))
      .catch((error: Error) => setProblem(error.message));
  };
  if (reader) {
    return (
      <p className="signed-in">
        Signed in as {reader.email}{" "}
        <button type="button" onClick={() => post("/api/auth/sign-out", {}).finally(() => onChange(undefined))}>
          Sign out
        </button>
      </p>
    );
  }
  return (
    <form className="sign-in" onSubmit={(event) => event.preventDefault()}>
      <input type="email" value={email} onChange={(event) => setEmail(event.target.value)} placeholder="Email" />
      <input
        type="password"
        value={password}
        onChange={(event) => setPassword(event.target.value)}
        placeholder="Password"
      />
      <button type="button" onClick={() => enter("sign-in")}>
        Sign in
      </button>
      <button type="button" onClick={() => enter("sign-up")}>
        Sign up
      </button>
      {problem && <span className="error">{problem}</span>}
    </form>
  );
}

async function post(path: string, body: object) {
  const response = await fetch(path, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify(body),
  });
  if (!response.ok) throw new Error(`${path}: ${response.status}`);
}

/**
 * The reader's token, kept until a minute before it expires (Better Auth's last 15 minutes by
 * default), so that a chat turn seldom waits for the site.
 */
function tokenSource(): GetToken {
  let kept: { token: string; expires: number } | undefined;
  return async () => {
    if (kept && kept.expires - 60_000 > Date.now()) return kept.token;
    const response = await fetch("/api/auth/token");
    if (!response.ok) throw new Error(`/api/auth/token: ${response.status}`);
    const { token }: { token: string } = await response.json();
    const payload = token.split(".")[1] ?? "";
    const { exp }: { exp: number } = JSON.parse(atob(payload.replace(/-/g, "+").replace(/_/g, "/")));
    kept = { token, expires: exp * 1000 };
    return token;
  };
}

/**
 * The floors of `npm run bench`: the least a Hono Worker can do for a request, and the least it
 * can do for the same work as the service's requests (a subrequest, a streamed answer, a page
 * read from PostgreSQL), with nothing of the service's own code around it.
 */
import { Hono } from "hono";
import postgres from "postgres";

type Env = { HYPERDRIVE: Hyperdrive };

const app = new Hono<{ Bindings: Env }>();

app.get("/", (c) => c.json({ ok: true }));

type Upstream = { url: string; key: string };

function callModel({ url, key }: Upstream, stream: boolean) {
  return fetch(url, {
    method: "POST",
    headers: { "Content-Type": "application/json", Authorization: `Bearer ${key}` },
    body: JSON.stringify({ model: "bench-model", stream, messages: [{ role: "user", content: "?" }] }),
  });
}

// One subrequest with a small JSON answer, parsed: what each of a RAG turn's three calls
// (embedding, search, completion) costs at least.
app.post("/fetch", async (c) => {
  const upstream = await callModel(await c.req.json<Upstream>(), false);
  const body = await upstream.json<object>();
  return c.json({ keys: Object.keys(body).length });
});

// The floor of a streamed answer: ask the model API for a streamed completion and take its body
// whole, doing nothing with it. That is the least workerd spends receiving the model's 1,000
// pieces (reading them one read() at a time costs several times more), which any Worker that
// relays the answer pays at least.
app.post("/drain", async (c) => {
  const upstream = await callModel(await c.req.json<Upstream>(), true);
  const body = await upstream.arrayBuffer();
  return c.json({ bytes: body.byteLength });
});

// The floor of a history page: a postgres.js client made for the request as the service makes
// it, and one statement with the shape of the service's page (the session by UUID, its messages
// by a left join, in seq order, limited), sent as rows in JSON. No middleware, no Drizzle, no
// validation, no mapping to the API's shape.
app.get("/page/:uuid", async (c) => {
  const sql = postgres(c.env.HYPERDRIVE.connectionString, { max: 1, fetch_types: false, onnotice: () => {} });
  const messages = await sql`
    select m.id, m.seq, m.sender, m.message, m.timestamp, m.status, m.client_message_id, m.sources
    from chat_sessions s left join chat_messages m on m.session_id = s.id
    where s.session_uuid = ${c.req.param("uuid")}
    order by m.seq limit ${11}`;
  return c.json({ messages: messages.slice(0, 10) });
});

export default app;

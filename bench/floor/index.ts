/** The floor of `npm run bench`: the least a Hono Worker can do for a request. */
import { Hono } from "hono";

const app = new Hono();

app.get("/", (c) => c.json({ ok: true }));

// The floor of a streamed answer: ask the model API for a streamed completion and take its body
// whole, doing nothing with it. That is the least workerd spends receiving the model's 1,000
// pieces (reading them one read() at a time costs several times more), which any Worker that
// relays the answer pays at least.
app.post("/drain", async (c) => {
  const { url, key } = await c.req.json<{ url: string; key: string }>();
  const upstream = await fetch(url, {
    method: "POST",
    headers: { "Content-Type": "application/json", Authorization: `Bearer ${key}` },
    body: JSON.stringify({ model: "bench-model", stream: true, messages: [{ role: "user", content: "?" }] }),
  });
  const body = await upstream.arrayBuffer();
  return c.json({ bytes: body.byteLength });
});

export default app;

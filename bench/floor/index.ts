/** The floor of `npm run bench`: the least a Hono Worker can do for a request. */
import { Hono } from "hono";

const app = new Hono();

app.get("/", (c) => c.json({ ok: true }));

export default app;

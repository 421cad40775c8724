/**
 * A key-set (JWKS) server the tests control, for the cases a real issuer will not produce on
 * demand: keys rotated at a chosen moment, a key set that answers slowly, with an error, or not
 * at all. Test files run in parallel against one instance, so each test works under a key of its
 * own (a random UUID), and every count is per key.
 *
 * Runs in Node (the vitest global setup starts it); it imports only node: builtins.
 *   GET  /jwks/:key                → the key's scenario: its key set, after its delay
 *   PUT  /__jwks/:key   body = JwksScenario → 204; replaces the scenario, keeps the count
 *   GET  /__jwks/:key/fetches      → 200 {"fetches": n}: how many GET /jwks/:key arrived
 */
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo, Socket } from "node:net";
import type { JwksScenario } from "./issuer-jwks-scenario.ts";

export type { JwksScenario } from "./issuer-jwks-scenario.ts";

export async function startIssuerJwks(): Promise<{ url: string; close: () => Promise<void> }> {
  const scenarios = new Map<string, JwksScenario>();
  const fetches = new Map<string, number>();
  const sockets = new Set<Socket>();
  const timers = new Set<NodeJS.Timeout>();

  const server = createServer((req, res) => {
    handle(req, res).catch(() => res.destroy());
  });
  server.on("connection", (socket: Socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
  });

  async function handle(req: IncomingMessage, res: ServerResponse) {
    const path = new URL(req.url ?? "/", "http://fake").pathname;
    const control = /^\/__jwks\/([^/]+)(\/fetches)?$/.exec(path);
    if (control) {
      const key = control[1]!;
      if (req.method === "PUT" && !control[2]) {
        scenarios.set(key, JSON.parse(await readBody(req)) as JwksScenario);
        res.writeHead(204).end();
      } else if (req.method === "GET" && control[2]) {
        sendJson(res, 200, { fetches: fetches.get(key) ?? 0 });
      } else {
        res.writeHead(405).end();
      }
      return;
    }
    const served = /^\/jwks\/([^/]+)$/.exec(path);
    if (!served || req.method !== "GET") {
      res.writeHead(404).end();
      return;
    }
    const key = served[1]!;
    fetches.set(key, (fetches.get(key) ?? 0) + 1);
    const scenario = scenarios.get(key) ?? {};
    if (scenario.delayMs) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(() => {
          timers.delete(timer);
          resolve();
        }, scenario.delayMs);
        timers.add(timer);
      });
    }
    if (res.destroyed) return;
    if (scenario.destroy) {
      req.socket.destroy();
      return;
    }
    if (scenario.status !== undefined) {
      sendJson(res, scenario.status, { error: "the fake issuer says no" });
      return;
    }
    res.writeHead(200, { "Content-Type": "application/json" });
    res.end(scenario.body ?? JSON.stringify({ keys: scenario.keys ?? [] }));
  }

  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: async () => {
      for (const timer of timers) clearTimeout(timer);
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    req.on("error", reject);
  });
}

function sendJson(res: ServerResponse, status: number, body: unknown) {
  res.writeHead(status, { "Content-Type": "application/json" });
  res.end(JSON.stringify(body));
}

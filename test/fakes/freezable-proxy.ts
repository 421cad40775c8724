/**
 * A TCP proxy in front of PostgreSQL that can be frozen: while frozen it accepts connections but
 * passes no byte in either direction, as a database stopped with SIGSTOP (or a network that drops
 * everything) would. Bytes held back are delivered in order after the thaw.
 *
 * Runs in Node (the vitest global setup starts it). Control API on the same port's HTTP twin:
 *   POST /freeze → 204     POST /thaw → 204
 */
import { createServer as createHttpServer } from "node:http";
import { connect, createServer, type Socket } from "node:net";

export async function startFreezableProxy(target: { host: string; port: number }) {
  let frozen = false;
  /** Bytes that arrived while frozen, per destination socket, in order. */
  const held = new Map<Socket, Buffer[]>();
  const sockets = new Set<Socket>();

  const forward = (from: Socket, to: Socket) =>
    from.on("data", (chunk: Buffer) => {
      if (frozen) held.set(to, [...(held.get(to) ?? []), chunk]);
      else to.write(chunk);
    });

  const proxy = createServer((client) => {
    const server = connect(target.port, target.host);
    for (const socket of [client, server]) {
      sockets.add(socket);
      socket.on("error", () => {});
      socket.on("close", () => {
        sockets.delete(socket);
        held.delete(socket);
        client.destroy();
        server.destroy();
      });
    }
    forward(client, server);
    forward(server, client);
  });

  const control = createHttpServer((req, res) => {
    if (req.method === "POST" && (req.url === "/freeze" || req.url === "/thaw")) {
      frozen = req.url === "/freeze";
      if (!frozen) {
        for (const [socket, chunks] of held) for (const chunk of chunks) socket.write(chunk);
        held.clear();
      }
      res.writeHead(204).end();
    } else {
      res.writeHead(404).end();
    }
  });

  await Promise.all([listen(proxy), listen(control)]);
  return {
    port: (proxy.address() as { port: number }).port,
    controlUrl: `http://127.0.0.1:${(control.address() as { port: number }).port}`,
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await Promise.all([close(proxy), close(control)]);
    },
  };
}

function listen(server: { listen: (port: number, host: string, done: () => void) => unknown }) {
  return new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
}

function close(server: { close: (done: () => void) => unknown }) {
  return new Promise<void>((resolve) => server.close(() => resolve()));
}

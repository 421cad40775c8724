// A TCP proxy in front of PostgreSQL that counts what a client costs the database in round trips.
//
// A "flight" is the client bytes sent after the server has said something: messages the client
// pipelines (Parse, Bind, Execute, Sync written together) are one flight; a client that waits for
// ParameterDescription before sending Bind pays two. Flights before the connection's first
// ReadyForQuery (startup, authentication) are counted apart as `startup`, because Hyperdrive keeps
// connections open in production and that cost is not paid per request there. `statements` counts
// the ReadyForQuery messages after that first one: one per Sync or simple Query.
//
// `npm run bench` uses it as a module (startRoundTripCounter). As a command:
//   node scripts/pg-roundtrips.mjs --listen 127.0.0.1:6544 --target 127.0.0.1:5432 [--control 127.0.0.1:6545]
//   curl -s 127.0.0.1:6545/stats              -> {"connections":N,"startup":N,"query":N,"statements":N}
//   curl -s -X POST 127.0.0.1:6545/reset
import http from "node:http";
import net from "node:net";
import path from "node:path";
import { fileURLToPath } from "node:url";

const SSL_REQUEST = 80877103;
const GSSENC_REQUEST = 80877104;
const READY_FOR_QUERY = 0x5a; // 'Z'

/** @typedef {{ connections: number, startup: number, query: number, statements: number }} RoundTripStats */

/**
 * Starts the proxy on a free 127.0.0.1 port (or `listenPort`).
 *
 * @param {{ targetHost?: string, targetPort: number, listenPort?: number }} options
 * @returns {Promise<{ port: number, stats: () => RoundTripStats, reset: () => void, close: () => Promise<void> }>}
 */
export async function startRoundTripCounter({ targetHost = "127.0.0.1", targetPort, listenPort = 0 }) {
  /** @type {RoundTripStats} */
  let stats = emptyStats();
  const sockets = new Set();

  const server = net.createServer((client) => {
    stats.connections++;
    const upstream = net.connect({ host: targetHost, port: targetPort });
    for (const socket of [client, upstream]) {
      socket.setNoDelay(true);
      sockets.add(socket);
      socket.once("close", () => sockets.delete(socket));
    }
    const connection = new ConnectionCounter(() => stats);
    client.on("data", (chunk) => {
      connection.clientSent(chunk);
      upstream.write(chunk);
    });
    upstream.on("data", (chunk) => {
      connection.serverSent(chunk);
      client.write(chunk);
    });
    client.on("end", () => upstream.end());
    upstream.on("end", () => client.end());
    const destroy = () => {
      client.destroy();
      upstream.destroy();
    };
    client.on("error", destroy);
    upstream.on("error", destroy);
    client.on("close", destroy);
    upstream.on("close", destroy);
  });

  await new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen({ host: "127.0.0.1", port: listenPort }, () => {
      server.off("error", reject);
      resolve(undefined);
    });
  });

  return {
    port: /** @type {net.AddressInfo} */ (server.address()).port,
    stats: () => ({ ...stats }),
    reset: () => {
      stats = emptyStats();
    },
    close: () =>
      new Promise((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve(undefined));
      }),
  };
}

function emptyStats() {
  return { connections: 0, startup: 0, query: 0, statements: 0 };
}

/** Follows one connection: who spoke last, and the server's message boundaries. */
class ConnectionCounter {
  /** @param {() => RoundTripStats} stats the current totals (reset() replaces them) */
  constructor(stats) {
    this.stats = stats;
    /** True when the server has sent bytes since the client's last flight began. */
    this.serverSpoke = true;
    /** Saw the first ReadyForQuery: startup is over. */
    this.ready = false;
    /** The client asked for TLS or GSS encryption: the next server byte is an unframed answer. */
    this.awaitingEncryptionAnswer = false;
    /** The connection is encrypted from here on; flights are still counted, messages not. */
    this.opaque = false;
    this.firstClientBytes = true;
    /** @type {Buffer} an incomplete server message */
    this.pending = Buffer.alloc(0);
  }

  /** @param {Buffer} chunk */
  clientSent(chunk) {
    if (this.firstClientBytes && chunk.length >= 8) {
      const code = chunk.readUInt32BE(4);
      this.awaitingEncryptionAnswer = chunk.readUInt32BE(0) === 8 && (code === SSL_REQUEST || code === GSSENC_REQUEST);
    }
    this.firstClientBytes = false;
    if (!this.serverSpoke) return;
    this.serverSpoke = false;
    if (this.ready) this.stats().query++;
    else this.stats().startup++;
  }

  /** @param {Buffer} chunk */
  serverSent(chunk) {
    this.serverSpoke = true;
    if (this.opaque) return;
    let buffer = this.pending.length > 0 ? Buffer.concat([this.pending, chunk]) : chunk;
    if (this.awaitingEncryptionAnswer && buffer.length > 0) {
      this.awaitingEncryptionAnswer = false;
      // 'S' (SSL) or 'G' (GSS): encrypted bytes follow. 'N': the client goes on in plain text.
      if (buffer[0] !== 0x4e) {
        this.opaque = true;
        return;
      }
      buffer = buffer.subarray(1);
      this.firstClientBytes = true; // the StartupMessage comes next
    }
    while (buffer.length >= 5) {
      const length = buffer.readUInt32BE(1);
      if (buffer.length < 1 + length) break;
      if (buffer[0] === READY_FOR_QUERY) {
        if (this.ready) this.stats().statements++;
        else this.ready = true;
      }
      buffer = buffer.subarray(1 + length);
    }
    this.pending = Buffer.from(buffer);
  }
}

/** @param {string} value "host:port" */
function hostPort(value) {
  const colon = value.lastIndexOf(":");
  const port = Number(value.slice(colon + 1));
  if (colon < 1 || !Number.isInteger(port)) throw new Error(`expected host:port, got "${value}"`);
  return { host: value.slice(0, colon), port };
}

async function main() {
  const args = new Map();
  const argv = process.argv.slice(2);
  for (let i = 0; i < argv.length; i += 2) args.set(argv[i], argv[i + 1]);
  const listen = hostPort(args.get("--listen") ?? "127.0.0.1:6544");
  const target = hostPort(args.get("--target") ?? "127.0.0.1:5432");
  const control = hostPort(args.get("--control") ?? "127.0.0.1:6545");
  if (listen.host !== "127.0.0.1") throw new Error("--listen must be on 127.0.0.1");

  const counter = await startRoundTripCounter({
    targetHost: target.host,
    targetPort: target.port,
    listenPort: listen.port,
  });
  const controlServer = http.createServer((req, res) => {
    if (req.method === "POST" && req.url === "/reset") counter.reset();
    else if (req.url !== "/stats") res.statusCode = 404;
    res.setHeader("Content-Type", "application/json");
    res.end(`${JSON.stringify(counter.stats())}\n`);
  });
  controlServer.listen(control.port, control.host);
  const stop = () => {
    controlServer.close();
    void counter.close().then(() => process.exit(0));
  };
  process.on("SIGINT", stop);
  process.on("SIGTERM", stop);
  console.error(
    `pg-roundtrips: 127.0.0.1:${counter.port} -> ${target.host}:${target.port}, stats on http://${control.host}:${control.port}/stats`,
  );
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main().catch((error) => {
    console.error(`pg-roundtrips: ${error instanceof Error ? error.message : error}`);
    process.exit(1);
  });
}

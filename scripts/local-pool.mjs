// A connection pool in front of the local PostgreSQL, standing in for Hyperdrive's.
//
// In production the Worker opens a connection per request to Hyperdrive, which answers the
// start-up itself and hands the session a PostgreSQL connection it keeps open. Locally, without
// it, every request made PostgreSQL start a backend: 5 to 8 ms of PostgreSQL CPU per request,
// more than the Worker's own. This pool does what Hyperdrive does for that part: each client
// connection is answered at once with the parameters of a server connection the pool keeps, is
// given that connection for its life, and when the client leaves the connection is reset
// (DISCARD ALL: prepared statements, settings) and kept for the next one.
//
// It speaks just enough of the protocol (v3) for that: no TLS (the client is on loopback), no
// authentication towards the client (the embedded cluster trusts loopback, scripts/
// local-database.mjs), no query cancellation. Used by `npm run dev` and `npm run bench`; the
// tests and `npm run test:faults` talk to PostgreSQL directly.
import net from "node:net";

const SSL_REQUEST = 80877103;
const GSSENC_REQUEST = 80877104;
const PROTOCOL_3 = 196608;
const IDLE_LIMIT = 32;

/**
 * @param {{ target: { host: string, port: number }, port?: number }} options
 * @returns {Promise<{ port: number, close: () => Promise<void> }>}
 */
export async function startLocalPool({ target, port = 0 }) {
  /** @type {Map<string, ServerConnection[]>} idle server connections by user and database */
  const idle = new Map();
  /** @type {Set<net.Socket>} */
  const sockets = new Set();

  const server = net.createServer((client) => {
    // Without it, each of a reply's messages after the first waits for the client's delayed ACK
    // (40 ms on Linux): a history page took 100 ms instead of 3.
    client.setNoDelay(true);
    sockets.add(client);
    client.on("close", () => sockets.delete(client));
    client.on("error", () => client.destroy());
    void serveClient(client).catch(() => client.destroy());
  });

  /** @param {net.Socket} client */
  async function serveClient(client) {
    const reader = messageReader(client, false);
    let startup = await reader.next();
    while (startup && [SSL_REQUEST, GSSENC_REQUEST].includes(startup.readInt32BE(4))) {
      client.write("N");
      startup = await reader.next();
    }
    if (!startup || startup.readInt32BE(4) !== PROTOCOL_3) return void client.destroy();
    const params = startupParameters(startup);
    const key = `${params.user}\u0000${params.database ?? params.user}`;
    const connection = idle.get(key)?.pop() ?? (await connectServer(target, startup));
    if (connection.failure) {
      client.end(connection.failure);
      return;
    }
    sockets.add(connection.socket);
    client.write(connection.greeting);
    let clientGone = false;
    connection.onMessage = (message) => {
      if (!clientGone) writeCoalesced(client, message);
    };
    reader.onMessage((message) => {
      if (message[0] === 0x58) return; // Terminate: the client leaves, the connection stays
      writeCoalesced(connection.socket, message);
    });
    client.once("close", () => {
      clientGone = true;
      void release(key, connection);
    });
  }

  /**
   * @param {string} key
   * @param {ServerConnection} connection
   */
  async function release(key, connection) {
    if (connection.socket.destroyed) return;
    try {
      if (connection.status !== "I") throw new Error("not idle");
      await connection.run(Buffer.from("DISCARD ALL\u0000"));
    } catch {
      connection.socket.destroy();
      return;
    }
    const list = idle.get(key) ?? [];
    if (list.length >= IDLE_LIMIT) return void connection.socket.destroy();
    connection.onMessage = () => {};
    list.push(connection);
    idle.set(key, list);
  }

  await new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen({ port, host: "127.0.0.1", exclusive: true }, () => resolve(undefined));
  });
  return {
    port: /** @type {net.AddressInfo} */ (server.address()).port,
    close: async () => {
      for (const socket of sockets) socket.destroy();
      for (const list of idle.values()) for (const connection of list) connection.socket.destroy();
      await new Promise((resolve) => server.close(() => resolve(undefined)));
    },
  };
}

/**
 * @typedef {{
 *   socket: net.Socket,
 *   greeting: Buffer,
 *   status: string,
 *   failure?: Buffer,
 *   onMessage: (message: Buffer) => void,
 *   run: (query: Buffer) => Promise<void>,
 * }} ServerConnection
 */

/**
 * Opens a server connection with the client's own start-up message and keeps what the server
 * said up to its first ReadyForQuery, to greet every client that gets this connection later.
 *
 * @param {{ host: string, port: number }} target
 * @param {Buffer} startup
 * @returns {Promise<ServerConnection>}
 */
function connectServer(target, startup) {
  return new Promise((resolve) => {
    const socket = net.connect(target.port, target.host);
    socket.setNoDelay(true);
    /** @type {Buffer[]} */
    const greeting = [];
    /** @type {ServerConnection} */
    const connection = {
      socket,
      greeting: Buffer.alloc(0),
      status: "I",
      onMessage: () => {},
      run: (query) =>
        new Promise((done, failed) => {
          const message = Buffer.alloc(5 + query.length);
          message[0] = 0x51; // Query
          message.writeInt32BE(4 + query.length, 1);
          query.copy(message, 5);
          connection.onMessage = (reply) => {
            if (reply[0] === 0x45) failed(new Error("reset failed"));
            else if (reply[0] === 0x5a) done();
          };
          socket.write(message);
        }),
    };
    let ready = false;
    const fail = (/** @type {Buffer} */ error) => {
      connection.failure = error;
      socket.destroy();
      resolve(connection);
    };
    socket.on("error", () => {
      if (!ready) fail(errorResponse("08006", "the local pool could not reach PostgreSQL"));
    });
    messageReader(socket, true).onMessage((message) => {
      const type = message[0];
      if (type === 0x5a) connection.status = String.fromCharCode(message[5] ?? 0x49);
      if (ready) return connection.onMessage(message);
      if (type === 0x45) return fail(message); // an ErrorResponse during start-up, e.g. 53300
      if (type === 0x52 && message.readInt32BE(5) !== 0) {
        return fail(errorResponse("28000", "the local pool only serves clusters that trust loopback"));
      }
      greeting.push(message);
      if (type === 0x5a) {
        ready = true;
        connection.greeting = Buffer.concat(greeting);
        resolve(connection);
      }
    });
    socket.write(startup);
  });
}

/**
 * Splits a socket's bytes into protocol messages (type byte, length, body). A client's first
 * message has no type byte (start-up, SSL request); `typed` says whether to expect one.
 *
 * @param {net.Socket} socket
 * @param {boolean} typed
 */
function messageReader(socket, typed) {
  let buffer = Buffer.alloc(0);
  let withType = typed;
  /** @type {((message: Buffer) => void) | undefined} */
  let handler;
  /** @type {Buffer[]} */
  const queue = [];
  /** @type {((message: Buffer | undefined) => void) | undefined} */
  let waiting;
  const deliver = (/** @type {Buffer} */ message) => {
    if (handler) handler(message);
    else if (waiting) {
      const resolve = waiting;
      waiting = undefined;
      resolve(message);
    } else queue.push(message);
  };
  socket.on("data", (chunk) => {
    buffer = buffer.length ? Buffer.concat([buffer, chunk]) : chunk;
    for (;;) {
      const header = withType ? 5 : 4;
      if (buffer.length < header) break;
      const length = buffer.readInt32BE(withType ? 1 : 0) + (withType ? 1 : 0);
      if (buffer.length < length) break;
      const message = buffer.subarray(0, length);
      buffer = buffer.subarray(length);
      // After a start-up message, everything the client sends has a type byte.
      if (!withType && message.readInt32BE(4) === PROTOCOL_3) withType = true;
      deliver(message);
    }
  });
  socket.on("close", () => waiting?.(undefined));
  return {
    /** The next untyped message (start-up phase), then typed ones follow. */
    next: () =>
      /** @type {Promise<Buffer | undefined>} */ (
        new Promise((resolve) => {
          const queued = queue.shift();
          if (queued) resolve(queued);
          else waiting = resolve;
        })
      ),
    /** @param {(message: Buffer) => void} callback every message from now on */
    onMessage: (callback) => {
      handler = callback;
      for (const message of queue.splice(0)) callback(message);
    },
  };
}

/**
 * Writes a message so that the messages split from one chunk of bytes leave in one packet again,
 * as they came: the socket is corked until the current chunk has been handled.
 *
 * @param {net.Socket} socket
 * @param {Buffer} message
 */
function writeCoalesced(socket, message) {
  if (!socket.writableCorked) {
    socket.cork();
    process.nextTick(() => socket.uncork());
  }
  socket.write(message);
}

/** @param {Buffer} startup */
function startupParameters(startup) {
  const fields = startup
    .subarray(8, startup.length - 1)
    .toString("utf8")
    .split("\u0000");
  /** @type {Record<string, string>} */
  const params = {};
  for (let i = 0; i + 1 < fields.length; i += 2)
    params[/** @type {string} */ (fields[i])] = /** @type {string} */ (fields[i + 1]);
  return params;
}

/**
 * @param {string} code SQLSTATE
 * @param {string} text
 */
function errorResponse(code, text) {
  const body = Buffer.from(`SFATAL\u0000C${code}\u0000M${text}\u0000\u0000`);
  const message = Buffer.alloc(5 + body.length);
  message[0] = 0x45;
  message.writeInt32BE(4 + body.length, 1);
  body.copy(message, 5);
  return message;
}

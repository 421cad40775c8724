// The test suite's fake model API and Qdrant (test/fakes/upstream-server.ts) as a process of its
// own, for `npm run bench`: a separate process, so serving a streamed answer does not share an
// event loop with the load generator that times it. Prints {"url": "http://127.0.0.1:PORT"} on
// stdout once it listens; stops on SIGTERM/SIGINT or when its stdin closes.
//
// Run with `node --experimental-strip-types` (Node 22 strips the fake's types itself).
import { startFakeUpstream } from "../test/fakes/upstream-server.ts";

const upstream = await startFakeUpstream();
process.stdout.write(`${JSON.stringify({ url: upstream.url })}\n`);

let stopping = false;
function stop() {
  if (stopping) return;
  stopping = true;
  void upstream.close().then(() => process.exit(0));
}
process.on("SIGTERM", stop);
process.on("SIGINT", stop);
// The parent holds our stdin open; when it goes away, however it went, so do we.
process.stdin.on("end", stop);
process.stdin.on("error", stop);
process.stdin.resume();

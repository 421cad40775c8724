/**
 * A download written a piece at a time (a conversation's export, an admin list's CSV): each piece
 * made only when the client has taken the one before, so a Worker never holds more than a page.
 */

/**
 * A stream of `chunks`, each read only when the client has taken the one before. `onError` hears
 * of a failure after the response has begun (the database, say); the stream then errors, so the
 * client sees a broken download rather than a file that ends early and looks whole.
 */
export function textStream(
  chunks: AsyncGenerator<string>,
  onError: (error: unknown) => void,
): ReadableStream<Uint8Array> {
  const encoder = new TextEncoder();
  return new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        try {
          const next = await chunks.next();
          if (next.done) controller.close();
          else controller.enqueue(encoder.encode(next.value));
        } catch (error) {
          onError(error);
          // The runtime logs what a body stream fails with; the cause may quote SQL and its
          // parameters, so it gets a message of ours (the request's log line has the cause).
          controller.error(new Error("the download was cut short"));
        }
      },
      async cancel() {
        await chunks.return(undefined);
      },
    },
    // Nothing is read ahead of the client.
    { highWaterMark: 0 },
  );
}

export class DeadlineExceeded extends Error {
  constructor(readonly ms: number) {
    super(`no result within ${ms} ms`);
    this.name = "DeadlineExceeded";
  }
}

/**
 * Runs `work` with a time limit: past `ms` the returned promise rejects with DeadlineExceeded and
 * `work`'s signal is aborted so that it can stop its I/O.
 */
export async function withDeadline<T>(ms: number, work: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const controller = new AbortController();
  let timer = 0;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      const error = new DeadlineExceeded(ms);
      controller.abort(error);
      reject(error);
    }, ms);
  });
  try {
    return await Promise.race([work(controller.signal), expired]);
  } finally {
    clearTimeout(timer);
  }
}

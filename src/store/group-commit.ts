// Group commit: writes that arrive while the database is busy with earlier ones share the next statement.
// Nothing waits for a timer: an idle queue writes at once, so a lone request pays no latency; under load each
// statement carries what queued up during the one before (one round trip and one commit for many).

export type GroupCommitOptions = {
  /** Most items in one statement. */
  maxBatch: number;
  /** Statements in flight at once. */
  maxConcurrent: number;
};

type Pending<T, R> = { item: T; resolve: (r: R) => void; reject: (e: unknown) => void };

/**
 * `writeMany` answers one result per item, in order. When it throws, each item of that batch is written on its
 * own by `writeOne`, so one bad item fails only itself and never the requests it happened to share a batch with.
 */
export function groupCommit<T, R>(writeMany: (items: T[]) => Promise<R[]>, writeOne: (item: T) => Promise<R>, o: GroupCommitOptions) {
  const queue: Pending<T, R>[] = [];
  let inFlight = 0;

  async function run(batch: Pending<T, R>[]) {
    try {
      if (batch.length === 1) {
        batch[0]!.resolve(await writeOne(batch[0]!.item));
        return;
      }
      let results: R[] | undefined;
      try {
        results = await writeMany(batch.map((p) => p.item));
      } catch {
        results = undefined;
      }
      if (results && results.length === batch.length) batch.forEach((p, i) => p.resolve(results![i]!));
      else await Promise.all(batch.map((p) => writeOne(p.item).then(p.resolve, p.reject)));
    } catch (e) {
      for (const p of batch) p.reject(e);
    }
  }

  function pump() {
    while (inFlight < o.maxConcurrent && queue.length > 0) {
      const batch = queue.splice(0, o.maxBatch);
      inFlight++;
      void run(batch).finally(() => {
        inFlight--;
        pump();
      });
    }
  }

  return (item: T): Promise<R> =>
    new Promise<R>((resolve, reject) => {
      queue.push({ item, resolve, reject });
      pump();
    });
}

// Group commit: writes that arrive while the database is busy with earlier ones share the next statement.
// Nothing waits for a timer: an idle queue writes at once, so a lone request pays no latency; under load each
// statement carries what queued up during the one before (one round trip and one commit for many).

export type GroupCommitOptions = {
  /** Most items in one statement. */
  maxBatch: number;
  /** Statements in flight at once. */
  maxConcurrent: number;
  /** Whether an error of a shared statement is one item's, so writing each alone finds it (default: itemError). */
  isItemError?: (e: unknown) => boolean;
};

/** Thrown by `writeMany` when these items cannot share one statement: each is then written on its own. */
export class CannotShare extends Error {}

/**
 * A row's values refused (SQLSTATE class 22 data exception, 23 integrity constraint), two items of the statement
 * that touch one row (21000: ON CONFLICT DO UPDATE cannot affect a row twice, e.g. one idempotency key retried
 * while its first request waits in the same statement), or items that cannot share.
 */
export const itemError = (e: unknown) => e instanceof CannotShare || /^(2[23]|21000$)/.test(String((e as { code?: unknown })?.code ?? ''));

type Pending<T, R> = { item: T; resolve: (r: R) => void; reject: (e: unknown) => void };

/**
 * `writeMany` answers one result per item, in order. When it throws an item's error, each item of that batch is
 * written on its own by `writeOne`, so one bad item fails only itself and never the requests it happened to share
 * a batch with. Any other error (a lost connection, perhaps after the commit; a timeout) is every waiting request's:
 * writing each again could store it twice. A wrong number of results fails the batch the same way.
 */
export function groupCommit<T, R>(writeMany: (items: T[]) => Promise<R[]>, writeOne: (item: T) => Promise<R>, o: GroupCommitOptions) {
  const queue: Pending<T, R>[] = [];
  const isItemError = o.isItemError ?? itemError;
  let inFlight = 0;

  async function run(batch: Pending<T, R>[]) {
    try {
      if (batch.length === 1) {
        batch[0]!.resolve(await writeOne(batch[0]!.item));
        return;
      }
      let results: R[];
      try {
        results = await writeMany(batch.map((p) => p.item));
      } catch (e) {
        if (!isItemError(e)) throw e;
        await Promise.all(batch.map((p) => writeOne(p.item).then(p.resolve, p.reject)));
        return;
      }
      if (results.length !== batch.length) throw new Error(`a shared write answered ${results.length} results for ${batch.length} items`);
      batch.forEach((p, i) => p.resolve(results[i]!));
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

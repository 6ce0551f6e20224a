/**
 * Group commit: calls that arrive while earlier work is in flight are gathered and executed as one
 * statement, so that a burst of N holds costs a few Postgres round trips and commits instead of N.
 * Each caller still gets its own result, and only after the statement that carries its item has
 * committed: batching changes the cost, never the durability of a single item.
 */
export interface BatcherOptions {
  /** Items per batch. */
  batchMax: number;
  /** Batches executing at once; further items wait and are gathered into the next batch. */
  inFlightMax: number;
}

interface Pending<TItem, TResult> {
  item: TItem;
  resolve: (result: TResult) => void;
  reject: (err: unknown) => void;
}

export interface Batcher<TItem, TResult> {
  submit(item: TItem): Promise<TResult>;
}

/**
 * `execute` receives a batch and must return one result per item, in order. When it throws, every
 * item of that batch is rejected with the error (the caller may retry: the work is idempotent).
 */
export function createBatcher<TItem, TResult>(
  execute: (items: TItem[]) => Promise<TResult[]>,
  options: BatcherOptions,
): Batcher<TItem, TResult> {
  const queue: Pending<TItem, TResult>[] = [];
  let inFlight = 0;

  function pump(): void {
    while (inFlight < options.inFlightMax && queue.length > 0) {
      const batch = queue.splice(0, options.batchMax);
      inFlight += 1;
      void run(batch).finally(() => {
        inFlight -= 1;
        pump();
      });
    }
  }

  async function run(batch: Pending<TItem, TResult>[]): Promise<void> {
    try {
      const results = await execute(batch.map((p) => p.item));
      if (results.length !== batch.length) throw new Error(`batch returned ${results.length} results for ${batch.length} items`);
      batch.forEach((p, index) => p.resolve(results[index] as TResult));
    } catch (err) {
      for (const p of batch) p.reject(err);
    }
  }

  return {
    submit(item: TItem): Promise<TResult> {
      return new Promise<TResult>((resolve, reject) => {
        queue.push({ item, resolve, reject });
        pump();
      });
    },
  };
}

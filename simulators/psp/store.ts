/**
 * The simulator's state, kept in memory and made durable in its data folder:
 *
 *   snapshot.json   the whole state at the last start, written atomically (temp file, fsync, rename);
 *   journal.jsonl   every change since then, one JSON line each, appended synchronously before the
 *                   change is acknowledged to the client.
 *
 * On start the snapshot is loaded, the journal replayed (a torn last line from a crash is ignored),
 * expired idempotency keys and finished deliveries dropped, a fresh snapshot written and the journal
 * emptied. So a restart keeps every payment, refund, idempotency key (for its whole lifetime) and
 * undelivered webhook, and the files stay small.
 */
import { closeSync, existsSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, writeSync } from 'node:fs';
import path from 'node:path';
import type { Delivery, IdempotencyRecord, PaymentIntent, Refund, Transfer } from './types';

type JournalRecord =
  | { t: 'intent'; v: PaymentIntent }
  | { t: 'refund'; v: Refund }
  | { t: 'transfer'; v: Transfer }
  | { t: 'idem'; v: IdempotencyRecord }
  | { t: 'delivery'; v: Delivery };

interface Snapshot {
  intents: PaymentIntent[];
  refunds: Refund[];
  transfers: Transfer[];
  idempotency: IdempotencyRecord[];
  deliveries: Delivery[];
}

export interface PspStore {
  readonly intents: ReadonlyMap<string, PaymentIntent>;
  readonly refunds: ReadonlyMap<string, Refund>;
  readonly transfers: ReadonlyMap<string, Transfer>;
  /** Pending deliveries only. */
  readonly deliveries: ReadonlyMap<string, Delivery>;
  idempotencyRecord(key: string): IdempotencyRecord | undefined;
  saveIntent(intent: PaymentIntent): void;
  saveRefund(refund: Refund): void;
  saveTransfer(transfer: Transfer): void;
  saveIdempotency(record: IdempotencyRecord): void;
  saveDelivery(delivery: Delivery): void;
  close(): void;
}

export interface StoreOptions {
  dataDir: string;
  /** How long an idempotency key is remembered. */
  idempotencyTtlMs: number;
  clock: () => number;
}

const snapshotName = 'snapshot.json';
const journalName = 'journal.jsonl';

function readSnapshot(dir: string): Snapshot {
  const file = path.join(dir, snapshotName);
  const empty: Snapshot = { intents: [], refunds: [], transfers: [], idempotency: [], deliveries: [] };
  if (!existsSync(file)) return empty;
  return { ...empty, ...(JSON.parse(readFileSync(file, 'utf8')) as Partial<Snapshot>) };
}

/** Journal lines in order; a torn (unparsable) last line is the write a crash interrupted. */
function readJournal(dir: string): JournalRecord[] {
  const file = path.join(dir, journalName);
  if (!existsSync(file)) return [];
  const lines = readFileSync(file, 'utf8').split('\n').filter((l) => l.trim() !== '');
  const records: JournalRecord[] = [];
  lines.forEach((line, index) => {
    try {
      records.push(JSON.parse(line) as JournalRecord);
    } catch (err) {
      if (index !== lines.length - 1) throw new Error(`PSP journal is corrupt at line ${index + 1}: ${(err as Error).message}`);
    }
  });
  return records;
}

function writeAtomically(file: string, content: string): void {
  const tmp = `${file}.tmp`;
  const fd = openSync(tmp, 'w');
  try {
    writeSync(fd, content);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, file);
}

export function openStore(options: StoreOptions): PspStore {
  const { dataDir, clock } = options;
  mkdirSync(dataDir, { recursive: true });
  const intents = new Map<string, PaymentIntent>();
  const refunds = new Map<string, Refund>();
  const transfers = new Map<string, Transfer>();
  const idempotency = new Map<string, IdempotencyRecord>();
  const deliveries = new Map<string, Delivery>();

  const apply = (record: JournalRecord): void => {
    switch (record.t) {
      case 'intent':
        intents.set(record.v.id, record.v);
        break;
      case 'refund':
        refunds.set(record.v.id, record.v);
        break;
      case 'transfer':
        transfers.set(record.v.id, record.v);
        break;
      case 'idem':
        idempotency.set(record.v.key, record.v);
        break;
      case 'delivery':
        // Only pending deliveries are kept: finished ones are history (in the journal until the next
        // start), and scanning them on every delivery would make a long run quadratic.
        if (record.v.state === 'pending') deliveries.set(record.v.deliveryId, record.v);
        else deliveries.delete(record.v.deliveryId);
        break;
    }
  };

  const snapshot = readSnapshot(dataDir);
  snapshot.intents.forEach((v) => apply({ t: 'intent', v }));
  snapshot.refunds.forEach((v) => apply({ t: 'refund', v }));
  snapshot.transfers.forEach((v) => apply({ t: 'transfer', v }));
  snapshot.idempotency.forEach((v) => apply({ t: 'idem', v }));
  snapshot.deliveries.forEach((v) => apply({ t: 'delivery', v }));
  readJournal(dataDir).forEach(apply);

  const isExpired = (r: IdempotencyRecord): boolean => clock() - r.createdAtMs > options.idempotencyTtlMs;
  for (const [key, record] of idempotency) if (isExpired(record)) idempotency.delete(key);

  const compacted: Snapshot = {
    intents: [...intents.values()],
    refunds: [...refunds.values()],
    transfers: [...transfers.values()],
    idempotency: [...idempotency.values()],
    deliveries: [...deliveries.values()],
  };
  writeAtomically(path.join(dataDir, snapshotName), JSON.stringify(compacted));
  // Emptying the journal is safe only now that the snapshot holds everything it said.
  let journalFd: number | undefined = openSync(path.join(dataDir, journalName), 'w');

  const append = (record: JournalRecord): void => {
    if (journalFd === undefined) throw new Error('the PSP store is closed');
    writeSync(journalFd, `${JSON.stringify(record)}\n`);
    apply(record);
  };

  return {
    intents,
    refunds,
    transfers,
    deliveries,
    idempotencyRecord(key) {
      const record = idempotency.get(key);
      return record && !isExpired(record) ? record : undefined;
    },
    saveIntent: (v) => append({ t: 'intent', v }),
    saveRefund: (v) => append({ t: 'refund', v }),
    saveTransfer: (v) => append({ t: 'transfer', v }),
    saveIdempotency: (v) => append({ t: 'idem', v }),
    saveDelivery: (v) => append({ t: 'delivery', v }),
    close() {
      if (journalFd !== undefined) closeSync(journalFd);
      journalFd = undefined;
    },
  };
}

// The LISTEN/NOTIFY bus: delivered on commit (never on rollback), to this process and,
// on PostgreSQL, to every other one sharing the database; a process knows its own.
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createTestDatabase, testDatabaseKind } from '../helpers/db.ts';
import { openDatabase, type Database } from '../../src/db/client.ts';
import { notifyBusFor, type Message, type NotifyBus } from '../../src/db/notify.ts';

let database: Database;
let bus: NotifyBus;
beforeAll(async () => {
  database = await createTestDatabase();
  bus = notifyBusFor(database);
});
afterAll(() => database.close());

function collect(b: NotifyBus, channel: string) {
  const got: Message[] = [];
  let resets = 0;
  const stop = b.subscribe(channel, { onMessage: (m) => got.push(m), onReset: () => resets++ });
  return { got, stop, resets: () => resets };
}

describe('the notification bus', () => {
  it('delivers a message sent inside a transaction only once it commits, and never after a rollback', async () => {
    const l = collect(bus, 'test_tx');
    await l.stop;
    expect(l.resets()).toBe(1);
    await database.db.transaction(async (tx) => {
      await bus.publish('test_tx', 'committed', tx);
      await new Promise((r) => setTimeout(r, 50));
      expect(l.got).toEqual([]);
    });
    await vi.waitFor(() => expect(l.got).toEqual([{ payload: 'committed', own: true }]), { timeout: 2000, interval: 5 });
    await database.db
      .transaction(async (tx) => {
        await bus.publish('test_tx', 'rolled back', tx);
        throw new Error('rollback');
      })
      .catch(() => {});
    await bus.publish('test_tx', 'after');
    await vi.waitFor(() => expect(l.got.map((m) => m.payload)).toEqual(['committed', 'after']), { timeout: 2000, interval: 5 });
    await (await l.stop)();
  });

  it('is shared only on PostgreSQL', () => {
    expect(bus.shared).toBe(testDatabaseKind === 'postgres');
  });

  it('refuses a channel name that is not a plain identifier', async () => {
    await expect(bus.publish('bad channel; drop table jobs')).rejects.toThrow(/invalid notification channel/);
  });

  it.skipIf(testDatabaseKind !== 'postgres')('reaches another process on the same PostgreSQL, which sees it is not its own', async () => {
    const other = await openDatabase({ url: database.location, dataDir: '', poolSize: 1 });
    try {
      const otherBus = notifyBusFor(other);
      const l = collect(otherBus, 'test_cross');
      await l.stop;
      const t0 = performance.now();
      await bus.publish('test_cross', 'hello');
      await vi.waitFor(() => expect(l.got).toEqual([{ payload: 'hello', own: false }]), { timeout: 2000, interval: 1 });
      expect(performance.now() - t0).toBeLessThan(500);
      await (await l.stop)();
    } finally {
      await other.close();
    }
  });
});

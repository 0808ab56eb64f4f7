// A small LISTEN/NOTIFY bus: named channels, publish, subscribe. The response cache
// uses it to drop its copies when another process writes; the job kernel to wake
// runners when work is queued.
//
// - PostgreSQL (postgres.js): one dedicated listening connection for every channel,
//   re-established after a disconnect; each (re)listen calls `onReset`, because
//   anything sent while we were away is lost (NOTIFY is not a queue).
// - PGlite: the same SQL through PGlite's own LISTEN, delivered in this process only
//   (PGlite is one process's database). `shared` is false there, so subscribers that
//   only care about other processes can skip the bus altogether.
//
// NOTIFY is transactional: sent inside a transaction (`notifySql` in its statement,
// or `publish(…, tx)`), it is delivered when that transaction commits, and never if it
// rolls back. A listener therefore never wakes before the row it is told about is
// visible. Every message carries the sender's id, so a process can tell its own.
import { randomUUID } from 'node:crypto';
import { sql, type SQL } from 'drizzle-orm';
import type { Database, Db } from './client.ts';

export interface Message {
  payload: string;
  /** sent by this process (this bus) */
  own: boolean;
}

export interface Subscription {
  onMessage(message: Message): void;
  /** (re)connected: messages may have been missed meanwhile */
  onReset?(): void;
}

export interface NotifyBus {
  /** true when other processes may share the database (PostgreSQL) */
  readonly shared: boolean;
  /** this process's id, carried by every message it sends */
  readonly self: string;
  /** Sends `payload` on `channel` to every listening process, this one too. With `tx`: when it commits. */
  publish(channel: string, payload?: string, tx?: Db): Promise<void>;
  /** Listens on `channel`; resolves once listening, with the function that stops it. */
  subscribe(channel: string, subscription: Subscription): Promise<() => Promise<void>>;
}

/** Channel names must be plain identifiers (they are quoted into LISTEN by the drivers). */
const CHANNEL = /^[a-z_][a-z0-9_]{0,62}$/;

function decode(self: string, raw: string): Message {
  const i = raw.indexOf(' ');
  const from = i < 0 ? raw : raw.slice(0, i);
  return { payload: i < 0 ? '' : raw.slice(i + 1), own: from === self };
}

/**
 * A `pg_notify(…)` call for a statement of the caller's own (e.g. over the rows an
 * insert returns), so that queuing and waking cost one round trip. Without `bus` the
 * message is nobody's own.
 */
export function notifySql(channel: string, payload: SQL, bus?: NotifyBus): SQL {
  if (!CHANNEL.test(channel)) throw new Error(`invalid notification channel "${channel}"`);
  return sql`pg_notify(${channel}, ${bus?.self ?? '-'} || ' ' || ${payload})`;
}

/** The subset of a postgres.js client the bus needs. */
interface PgListenClient {
  listen(channel: string, onNotify: (payload: string) => void, onListen?: () => void): Promise<{ unlisten(): Promise<void> }>;
}

/** The subset of a PGlite client the bus needs. */
interface PgliteListenClient {
  listen(channel: string, callback: (payload: string) => void): Promise<() => Promise<void>>;
}

/** The bus for a database: LISTEN/NOTIFY on PostgreSQL, PGlite's in-process LISTEN on PGlite. */
export function notifyBusFor(database: Database, onError: (err: unknown) => void = () => {}): NotifyBus {
  const self = randomUUID();
  const client = (database.db as unknown as { $client: unknown }).$client;
  const check = (channel: string) => {
    if (!CHANNEL.test(channel)) throw new Error(`invalid notification channel "${channel}"`);
  };
  const bus: NotifyBus = {
    shared: database.kind === 'postgres',
    self,
    async publish(channel, payload = '', tx) {
      await (tx ?? database.db).execute(sql`select ${notifySql(channel, sql`${payload}`, bus)}`);
    },
    async subscribe(channel, s) {
      check(channel);
      const deliver = (raw: string) => {
        try {
          s.onMessage(decode(self, raw));
        } catch (err) {
          onError(err);
        }
      };
      if (database.kind === 'postgres') {
        // postgres.js calls onListen after the first LISTEN and after every reconnect
        const listening = await (client as PgListenClient).listen(channel, deliver, () => s.onReset?.());
        return () => listening.unlisten().catch(onError);
      }
      const unlisten = await (client as PgliteListenClient).listen(channel, deliver);
      s.onReset?.();
      return () => unlisten().catch(onError);
    },
  };
  return bus;
}

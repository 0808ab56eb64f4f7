// SQL for the per-network sending state every process shares (announcement_networks):
// pauses after refused credentials, holds until a rate-limit reset, the backfeed's monthly
// read budget and a network's stored session.
import { and, eq, isNotNull, sql } from 'drizzle-orm';
import type { Db } from '../../db/client.ts';
import { announcementNetworks, type Network } from './announcements.table.ts';

export interface NetworkState {
  pausedReason: string | null;
  pausedAt: Date | null;
  pausedCredentials: string | null;
  holdUntil: Date | null;
  holdReason: string | null;
}

export async function networkState(db: Db, network: Network): Promise<NetworkState> {
  const [row] = await db
    .select({
      pausedReason: announcementNetworks.pausedReason,
      pausedAt: announcementNetworks.pausedAt,
      pausedCredentials: announcementNetworks.pausedCredentials,
      holdUntil: announcementNetworks.holdUntil,
      holdReason: announcementNetworks.holdReason,
    })
    .from(announcementNetworks)
    .where(eq(announcementNetworks.network, network));
  return row ?? { pausedReason: null, pausedAt: null, pausedCredentials: null, holdUntil: null, holdReason: null };
}

export async function pauseNetwork(db: Db, network: Network, reason: string, credentials: string): Promise<void> {
  await db.execute(
    sql`insert into announcement_networks (network, paused_reason, paused_at, paused_credentials)
        values (${network}, ${reason}, now(), ${credentials})
        on conflict (network) do update set paused_reason = excluded.paused_reason, paused_at = excluded.paused_at,
          paused_credentials = excluded.paused_credentials, updated_at = now()`,
  );
}

/** Lifts the pause; with `credentials`, only if it is still the pause of those credentials. True when this call lifted it. */
export async function liftPause(db: Db, network: Network, credentials?: string): Promise<boolean> {
  const rows = await db
    .update(announcementNetworks)
    .set({ pausedReason: null, pausedAt: null, pausedCredentials: null, updatedAt: sql`now()` })
    .where(
      and(
        eq(announcementNetworks.network, network),
        isNotNull(announcementNetworks.pausedReason),
        credentials === undefined ? undefined : eq(announcementNetworks.pausedCredentials, credentials),
      ),
    )
    .returning({ network: announcementNetworks.network });
  return rows.length > 0;
}

/** Nobody sends before `until`; a later hold already in place wins. */
export async function holdNetwork(db: Db, network: Network, until: Date, reason: string): Promise<void> {
  await db.execute(
    sql`insert into announcement_networks (network, hold_until, hold_reason)
        values (${network}, ${until.toISOString()}::timestamptz, ${reason})
        on conflict (network) do update set
          hold_reason = case when announcement_networks.hold_until is null or announcement_networks.hold_until < excluded.hold_until
                             then excluded.hold_reason else announcement_networks.hold_reason end,
          hold_until = greatest(announcement_networks.hold_until, excluded.hold_until), updated_at = now()`,
  );
}

/**
 * Spends `n` of the network's backfeed reads for this calendar month (UTC) if they fit
 * under `cap`; false, spending nothing, when they do not. One conditional upsert, so
 * processes sharing the database never spend the same last read twice; a new month
 * starts from zero.
 */
export async function spendBackfeedReads(db: Db, network: Network, n: number, cap: number): Promise<boolean> {
  if (n > cap) return false;
  const month = sql`to_char(now() at time zone 'UTC', 'YYYY-MM')`;
  const { backfeedMonth, backfeedReads } = announcementNetworks;
  const rows = await db
    .insert(announcementNetworks)
    .values({ network, backfeedMonth: month, backfeedReads: n })
    .onConflictDoUpdate({
      target: announcementNetworks.network,
      set: {
        backfeedReads: sql`case when ${backfeedMonth} = excluded.backfeed_month then ${backfeedReads} + ${n} else ${n} end`,
        backfeedMonth: sql`excluded.backfeed_month`,
        updatedAt: sql`now()`,
      },
      setWhere: sql`${backfeedMonth} is distinct from excluded.backfeed_month or ${backfeedReads} + ${n} <= ${cap}`,
    })
    .returning({ reads: backfeedReads });
  return rows.length > 0;
}

// --- a network's stored session (Bluesky): shared by restarts and processes ---------

export async function loadSession(db: Db, network: Network): Promise<string | null> {
  const [row] = await db
    .select({ session: announcementNetworks.session })
    .from(announcementNetworks)
    .where(eq(announcementNetworks.network, network));
  return row?.session ?? null;
}

export async function storeSession(db: Db, network: Network, session: string | null): Promise<void> {
  await db.execute(
    sql`insert into announcement_networks (network, session) values (${network}, ${session})
        on conflict (network) do update set session = excluded.session, updated_at = now()`,
  );
}


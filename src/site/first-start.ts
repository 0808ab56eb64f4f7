// What a newcomer meets on the first start of an embedded database: an admin token
// (and, once the content issues land, a welcome article). PostgreSQL is never seeded.
import { count } from 'drizzle-orm';
import type { Services } from '../compose.ts';
import { apiTokens } from '../auth/tokens.table.ts';
import { createToken } from '../auth/tokens.service.ts';

export interface FirstStart {
  adminToken?: string;
}

export async function firstStart(services: Services): Promise<FirstStart> {
  const { database } = services;
  if (database.kind !== 'pglite') return {};
  const db = database.db;
  const [{ n }] = await db.select({ n: count() }).from(apiTokens);
  if (n > 0) return {};
  const { token } = await createToken(db, 'first-start');
  return { adminToken: token };
}

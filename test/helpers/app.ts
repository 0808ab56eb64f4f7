import { randomUUID } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { pino, type Logger } from 'pino';
import { testConfig, type Config, type RateLimit } from '../../src/config.ts';
import { compose, type Services } from '../../src/compose.ts';
import { buildApp } from '../../src/app.ts';
import { createToken } from '../../src/auth/tokens.service.ts';
import type { Database } from '../../src/db/client.ts';
import { createTestDatabase } from './db.ts';

/** RATE_LIMIT_WRITES=<max>/minute, as config.ts parses it */
export const perMinute = (max: number): RateLimit => ({ max, windowMs: 60_000, text: `${max}/minute` });
/** writes never limited (far above what a test sends) */
export const NO_LIMIT = perMinute(100_000);

export interface TestApp {
  app: FastifyInstance;
  services: Services;
  database: Database;
  config: Config;
  /** a valid admin token */
  token: string;
  /** `{ authorization: 'Bearer …' }` */
  auth: { authorization: string };
  close(): Promise<void>;
}

/** Builds the whole app on a fresh database of its own. Workers are not started: call services.jobs.drainDue(). */
export async function createTestApp(
  overrides: Partial<Config> = {},
  opts: { database?: Database; beforeReady?: (app: FastifyInstance) => void; log?: Logger } = {},
): Promise<TestApp> {
  const database = opts.database ?? (await createTestDatabase());
  const config = testConfig({ apiUrl: 'http://api.test', siteUrl: 'http://blog.test', ...overrides });
  const log = opts.log ?? pino({ level: process.env.TEST_LOG ?? 'silent' });
  const services = compose(config, database, log);
  const app = await buildApp(services, { loggerInstance: log, beforeReady: opts.beforeReady });
  await app.ready();
  // a second app on a shared database gets a token of its own (names are unique among live tokens)
  const { token } = await createToken(database.db, 'test').catch(() => createToken(database.db, `test-${randomUUID().slice(0, 8)}`));
  return {
    app,
    services,
    database,
    config,
    token,
    auth: { authorization: `Bearer ${token}` },
    close: async () => {
      await app.close();
      await services.jobs.stop(2000);
      if (!opts.database) await database.close();
    },
  };
}

// The process: config → database → migrate → services → app → listen → workers.
// SIGTERM/SIGINT: stop taking requests, finish in-flight ones, release job leases,
// close the database, exit 0.
import v8 from 'node:v8';
import { pino } from 'pino';
import { ConfigError, loadConfig, type Config } from './config.ts';
import { DatabaseInUseError } from './db/lock.ts';
import { openAndMigrate } from './runtime.ts';
import type { Database } from './db/client.ts';
import { compose } from './compose.ts';
import { buildApp } from './app.ts';
import { firstStart } from './site/first-start.ts';

// Under load most of what a request allocates lives as long as its I/O (a pingback's fetch,
// a query) and is promoted before it dies; V8 then lets the old space grow to several
// times the live heap (~40 MB) before collecting it. Growing it by 20 % per major GC
// instead keeps it near the live size: under 50 concurrent pingbacks, peak RSS
// 250 → 165 MB on PostgreSQL, at the same rate (measured, two runs each).
v8.setFlagsFromString('--heap-growing-percent=20');

let config: Config;
try {
  config = loadConfig();
} catch (e) {
  if (e instanceof ConfigError) {
    console.error(e.message);
    process.exit(1);
  }
  throw e;
}

let database: Database;
try {
  database = await openAndMigrate(config);
} catch (e) {
  if (e instanceof DatabaseInUseError) {
    console.error(e.message);
    process.exit(1);
  }
  console.error(`Could not open the database (${config.databaseUrl ? 'DATABASE_URL' : config.dataDir}): ${(e as Error).message}`);
  process.exit(1);
}

const log = pino({ level: config.logLevel });
const services = compose(config, database, log);
const server = await buildApp(services, { loggerInstance: log });

if (config.outboundAllowPrivate) {
  log.warn('OUTBOUND_ALLOW_PRIVATE=true: pingbacks and webmentions may make this server fetch private and loopback addresses (your own network); use it for tests and closed networks only');
}

try {
  await server.listen({ port: config.port, host: config.host });
} catch (e) {
  const err = e as NodeJS.ErrnoException;
  const hint =
    err.code === 'EADDRINUSE'
      ? ` (port ${config.port} is taken by another program: stop it, or choose another port with PORT, e.g. PORT=${config.port < 65535 ? config.port + 1 : 8080} npm start)`
      : err.code === 'EACCES'
        ? ` (this user may not listen on port ${config.port}: choose another port with PORT)`
        : err.code === 'EADDRNOTAVAIL' || err.code === 'ENOTFOUND'
          ? ` (HOST=${config.host} is not an address of this machine)`
          : '';
  console.error(`Could not listen on ${config.host}:${config.port}: ${err.message}${hint}`);
  await database.close();
  process.exit(1);
}
// only once the server listens: a start that cannot listen (port taken) creates no token it could not show
const welcome = await firstStart(services);
services.jobs.start();
// the daily tombstone pruning of /v1/changes (queued once per database)
await services.changes.schedulePruning().catch((err) => log.warn({ err }, 'could not schedule the pruning of /v1/changes'));

const lines = [
  `Inkwell is running on ${database.kind === 'pglite' ? `the embedded database (${database.location})` : database.location}`,
  `  Site:     ${config.siteUrl}/`,
  ...(config.frontend ? [`  Desk:     ${config.apiUrl}/desk/  (sign in with an admin token)`] : []),
  `  API:      ${config.apiUrl}/v1/articles`,
  `  API docs: ${config.apiUrl}/docs`,
];
console.log(lines.join('\n'));
if (welcome.adminToken) {
  console.log('A one-time admin token for the admin API (shown only now; only its hash is stored):');
  console.log(`Admin token: ${welcome.adminToken}`);
}

let shuttingDown = false;
async function shutdown(signal: string) {
  if (shuttingDown) return;
  shuttingDown = true;
  server.log.info({ signal }, 'shutting down');
  const force = setTimeout(() => {
    server.log.error('shutdown took longer than 10 s; exiting');
    process.exit(1);
  }, 10_000);
  force.unref();
  try {
    await server.close(); // stops accepting, finishes in-flight requests
    await services.jobs.stop(5000); // lets running jobs finish, releases the rest
    await database.close();
    process.exit(0);
  } catch (err) {
    server.log.error({ err }, 'error during shutdown');
    process.exit(1);
  }
}
process.on('SIGTERM', () => void shutdown('SIGTERM'));
process.on('SIGINT', () => void shutdown('SIGINT'));

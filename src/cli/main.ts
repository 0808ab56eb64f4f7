// npm run cli -- <command>. Reuses the services, never HTTP.
//   token create --name NAME [--scope S] [--expires D]   prints the new token alone on the last line
//   token list                 id, name, prefix, scope, created, expires, last used, revoked
//   token revoke ID|NAME      by id (digits) or name; names are unique among active tokens
//   migrate                    apply pending migrations and exit
//   import wordpress FILE.xml [--dry-run] [--media]   bring a WordPress export over (posts, comments, old addresses, images)
//   backup FILE / restore FILE the embedded database (and its media folder), see db/backup.ts
import { statSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { ConfigError, loadConfig } from '../config.ts';
import { DatabaseInUseError } from '../db/lock.ts';
import { openAndMigrate } from '../runtime.ts';
import { createToken, isTokenScope, listTokens, revokeToken, TokenNameError } from '../auth/tokens.service.ts';
import { parseDuration } from '../lib/duration.ts';
import { TOKEN_SCOPES } from '../auth/tokens.table.ts';
import { importWordPressCommand } from './import-wordpress.ts';
import { BackupError, backupEmbedded, restoreEmbedded } from '../db/backup.ts';

const USAGE = `Usage: npm run cli -- <command>

  token create --name NAME [--scope content|moderation|admin] [--expires 30s|10m|12h|90d]
                             create an admin API token (printed once, on the last line);
                             content: articles, tags, authors, media; moderation: responses;
                             admin (the default): everything. Without --expires it never expires;
                             the name must be new among active tokens and not only digits
  token list                 list tokens: scope, expiry, last use (never their secrets)
  token revoke ID|NAME       revoke one token, by its id (digits) or its name
  migrate                    apply pending database migrations
  import wordpress FILE.xml [--dry-run] [--media]
                             import a WordPress export (Tools → Export): posts, comments,
                             pingbacks and old addresses; --dry-run writes nothing;
                             --media fetches the posts' images and re-hosts them
  backup FILE                back up the embedded database to FILE (media beside it, in FILE.media/);
                             the server must be stopped (PGlite is one process's database)
  restore FILE               restore a backup into an empty DATA_DIR

The database is the one the server uses: DATABASE_URL, or the embedded one in DATA_DIR (./data).`;

class UsageError extends Error {}

async function main(argv: string[]): Promise<number> {
  const { positionals, values } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: { name: { type: 'string' }, scope: { type: 'string' }, expires: { type: 'string' }, 'dry-run': { type: 'boolean' }, media: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } },
  });
  const [group, action, arg] = positionals;
  if (values.help || !group) {
    console.log(USAGE);
    return values.help ? 0 : 2;
  }
  const valid =
    (group === 'token' && ['create', 'list', 'revoke'].includes(action ?? '')) ||
    (group === 'migrate' && action === undefined) ||
    (group === 'import' && action === 'wordpress') ||
    ((group === 'backup' || group === 'restore') && action !== undefined && arg === undefined);
  if (!valid) throw new UsageError(`Unknown command: ${positionals.join(' ')}`);
  if (group === 'token' && action === 'create' && !values.name?.trim()) throw new UsageError('token create needs --name NAME');
  if (group === 'token' && action === 'revoke' && !arg) throw new UsageError('token revoke needs an ID or NAME');
  if ((values.scope !== undefined || values.expires !== undefined) && !(group === 'token' && action === 'create')) {
    throw new UsageError('--scope and --expires belong to token create');
  }
  const scope = values.scope ?? 'admin';
  if (!isTokenScope(scope)) throw new UsageError(`--scope must be one of: ${TOKEN_SCOPES.join(', ')}`);
  const expiresInMs = values.expires === undefined ? undefined : parseDuration(values.expires);
  if (expiresInMs === null) throw new UsageError('--expires must be a number and a unit: 30s, 10m, 12h or 90d');
  if (group === 'import' && (!arg || positionals.length > 3)) throw new UsageError('import wordpress needs the export file: import wordpress FILE.xml');
  if ((values['dry-run'] || values.media) && group !== 'import') throw new UsageError('--dry-run and --media go with import');
  if (group === 'import' && !statSync(arg!, { throwIfNoEntry: false })?.isFile()) throw new UsageError(`No such file: ${arg}`);

  const config = loadConfig();
  if (group === 'backup' || group === 'restore') {
    const run = group === 'backup' ? backupEmbedded : restoreEmbedded;
    const done = await run(config, action!);
    const media = done.mediaFiles ? `, ${done.mediaFiles} media file${done.mediaFiles > 1 ? 's' : ''} ${group === 'backup' ? `in ${done.file}.media/` : 'restored'}` : '';
    console.log(group === 'backup' ? `Backed up ${config.dataDir} to ${done.file} (${done.bytes} bytes${media}).` : `Restored ${done.file} into ${config.dataDir}${media}.`);
    return 0;
  }
  const database = await openAndMigrate(config);
  try {
    const db = database.db;
    if (group === 'migrate') {
      console.log('Migrations applied.');
    } else if (group === 'import') {
      return await importWordPressCommand(config, database, arg!, { dryRun: Boolean(values['dry-run']), media: Boolean(values.media) });
    } else if (action === 'create') {
      const { id, token, expiresAt } = await createToken(db, values.name!.trim(), { scope, expiresInMs });
      const until = expiresAt ? `, expires ${expiresAt.toISOString()}` : ', never expires';
      console.error(`Created token ${id} "${values.name!.trim()}" (scope ${scope}${until}). Store it now: it is shown only once.`);
      console.log(token);
    } else if (action === 'list') {
      const rows = await listTokens(db);
      if (!rows.length) console.log('No tokens.');
      for (const t of rows) {
        const expired = t.expiresAt !== null && t.expiresAt.getTime() <= Date.now();
        const state = t.revokedAt ? `revoked ${t.revokedAt.toISOString()}` : expired ? 'expired' : 'active';
        const used = t.lastUsedAt ? t.lastUsedAt.toISOString() : 'never';
        const expires = t.expiresAt ? `${expired ? 'expired' : 'expires'} ${t.expiresAt.toISOString()}` : 'never expires';
        console.log(`${t.id}\t${t.name}\t${t.prefix}…\tscope ${t.scope}\tcreated ${t.createdAt.toISOString()}\t${expires}\tlast used ${used}\t${state}`);
      }
    } else if (action === 'revoke') {
      const n = await revokeToken(db, arg!);
      if (n === 0) {
        console.error(`No active token with id or name "${arg}".`);
        return 1;
      }
      console.log(`Revoked ${n} token${n > 1 ? 's' : ''}.`);
    }
    return 0;
  } finally {
    await database.close();
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (e) => {
    if (e instanceof UsageError) console.error(`${e.message}\n\n${USAGE}`);
    else if (e instanceof ConfigError || e instanceof DatabaseInUseError || e instanceof TokenNameError || e instanceof BackupError) console.error(e.message);
    else if ((e as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) console.error(`${(e as Error).message}\n\n${USAGE}`);
    else console.error(`Error: ${(e as Error).message}`);
    process.exit(2);
  },
);

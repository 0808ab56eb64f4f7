// npm run cli -- <command>. Reuses the services, never HTTP.
//   token create --name NAME   prints the new token alone on the last line
//   token list                 id, name, prefix, created, last used, revoked
//   token revoke ID|NAME      by id (digits) or name; names are unique among active tokens
//   migrate                    apply pending migrations and exit
import { parseArgs } from 'node:util';
import { ConfigError, loadConfig } from '../config.ts';
import { DatabaseInUseError } from '../db/lock.ts';
import { openAndMigrate } from '../runtime.ts';
import { createToken, listTokens, revokeToken, TokenNameError } from '../auth/tokens.service.ts';

const USAGE = `Usage: npm run cli -- <command>

  token create --name NAME   create an admin API token (printed once, on the last line);
                             the name must be new among active tokens and not only digits
  token list                 list tokens (never their secrets)
  token revoke ID|NAME       revoke one token, by its id (digits) or its name
  migrate                    apply pending database migrations

The database is the one the server uses: DATABASE_URL, or the embedded one in DATA_DIR (./data).`;

class UsageError extends Error {}

async function main(argv: string[]): Promise<number> {
  const { positionals, values } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: { name: { type: 'string' }, help: { type: 'boolean', short: 'h' } },
  });
  const [group, action, arg] = positionals;
  if (values.help || !group) {
    console.log(USAGE);
    return values.help ? 0 : 2;
  }
  const valid =
    (group === 'token' && ['create', 'list', 'revoke'].includes(action ?? '')) || (group === 'migrate' && action === undefined);
  if (!valid) throw new UsageError(`Unknown command: ${positionals.join(' ')}`);
  if (group === 'token' && action === 'create' && !values.name?.trim()) throw new UsageError('token create needs --name NAME');
  if (group === 'token' && action === 'revoke' && !arg) throw new UsageError('token revoke needs an ID or NAME');

  const config = loadConfig();
  const database = await openAndMigrate(config);
  try {
    const db = database.db;
    if (group === 'migrate') {
      console.log('Migrations applied.');
    } else if (action === 'create') {
      const { id, token } = await createToken(db, values.name!.trim());
      console.error(`Created token ${id} "${values.name!.trim()}". Store it now: it is shown only once.`);
      console.log(token);
    } else if (action === 'list') {
      const rows = await listTokens(db);
      if (!rows.length) console.log('No tokens.');
      for (const t of rows) {
        const state = t.revokedAt ? `revoked ${t.revokedAt.toISOString()}` : 'active';
        const used = t.lastUsedAt ? t.lastUsedAt.toISOString() : 'never';
        console.log(`${t.id}\t${t.name}\t${t.prefix}…\tcreated ${t.createdAt.toISOString()}\tlast used ${used}\t${state}`);
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
    else if (e instanceof ConfigError || e instanceof DatabaseInUseError || e instanceof TokenNameError) console.error(e.message);
    else if ((e as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) console.error(`${(e as Error).message}\n\n${USAGE}`);
    else console.error(`Error: ${(e as Error).message}`);
    process.exit(2);
  },
);

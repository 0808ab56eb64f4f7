// npm run openapi: regenerates openapi/openapi.json from the route schemas.
import { mkdirSync, writeFileSync } from 'node:fs';
import { testConfig } from '../src/config.ts';
import { openDatabase } from '../src/db/client.ts';
import { compose } from '../src/compose.ts';
import { buildApp } from '../src/app.ts';
import { pino } from 'pino';

// The document does not depend on data; an unmigrated in-memory database is enough.
const database = await openDatabase({ url: 'memory://', dataDir: '' });
const app = await buildApp(compose(testConfig(), database, pino({ level: 'silent' })));
await app.ready();
mkdirSync('openapi', { recursive: true });
writeFileSync('openapi/openapi.json', JSON.stringify(app.swagger(), null, 2) + '\n');
await app.close();
await database.close();
console.log('openapi/openapi.json written');

// The README's typed client cannot rot: the committed types were generated from the
// committed OpenAPI document (their banner names its SHA-256), and the example
// type-checks against them with the project's compiler.
import { execFile } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { bannerFor } from '../../scripts/gen-client-types.ts';

const run = promisify(execFile);

describe('the typed client', () => {
  it('client/inkwell-api.d.ts was generated from the committed openapi/openapi.json', () => {
    const types = readFileSync('client/inkwell-api.d.ts', 'utf8');
    expect(types.slice(0, types.indexOf('\n') + 1), 'run `npm run client:types` and commit client/inkwell-api.d.ts').toBe(bannerFor(readFileSync('openapi/openapi.json')));
    for (const path of ['/v1/articles', '/v1/changes', '/v1/preview/{token}', '/v1/admin/webhooks']) expect(types).toContain(`"${path}": {`);
  });

  it('the example type-checks against those types', async () => {
    const out = await run('node_modules/.bin/tsc', ['--noEmit', '-p', 'client/tsconfig.json']).then(
      () => '',
      (e: { stdout?: string; stderr?: string }) => `${e.stdout ?? ''}${e.stderr ?? ''}` || 'tsc failed',
    );
    expect(out).toBe('');
  }, 120_000);

  it('and fails on a wrong use: an unknown path, a misspelt field', async () => {
    const dir = resolve('node_modules/.cache/typed-client-check');
    mkdirSync(dir, { recursive: true });
    writeFileSync(
      join(dir, 'wrong.ts'),
      `import createClient from 'openapi-fetch';
import type { paths } from '${resolve('client/inkwell-api.d.ts')}';
const inkwell = createClient<paths>({ baseUrl: 'http://x' });
export const a = inkwell.GET('/v1/no-such-route');
export const b = async () => (await inkwell.GET('/v1/articles/{slug}', { params: { path: { slug: 'x' } } })).data?.titel;
`,
    );
    writeFileSync(join(dir, 'tsconfig.json'), JSON.stringify({ extends: resolve('client/tsconfig.json'), include: ['wrong.ts'] }));
    const out = await run('node_modules/.bin/tsc', ['--noEmit', '-p', join(dir, 'tsconfig.json')]).then(() => '', (e: { stdout?: string }) => e.stdout ?? 'failed');
    expect(out).toMatch(/wrong\.ts\(4,/); // the unknown path
    expect(out).toContain('titel');
  }, 120_000);
});

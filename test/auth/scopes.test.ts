// Scoped, expiring tokens: a token does what its scope says and nothing else (403),
// stops at its expiry (401), and the OpenAPI document names each operation's scope.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql } from 'drizzle-orm';
import { createTestApp, type TestApp } from '../helpers/app.ts';
import { createToken } from '../../src/auth/tokens.service.ts';
import { parseDuration } from '../../src/lib/duration.ts';
import { queryRows } from '../../src/db/client.ts';
import { runNode } from '../helpers/process.ts';

let t: TestApp;
const bearer = (token: string) => ({ authorization: `Bearer ${token}` });
let content = '';
let moderation = '';
beforeAll(async () => {
  t = await createTestApp();
  content = (await createToken(t.database.db, 'writer', { scope: 'content' })).token;
  moderation = (await createToken(t.database.db, 'moderator', { scope: 'moderation' })).token;
});
afterAll(() => t.close());

const call = (token: string, method: 'GET' | 'POST' | 'PATCH', url: string, payload?: object) =>
  t.app.inject({ method, url, headers: bearer(token), ...(payload ? { payload } : {}) });

describe('token scopes', () => {
  it('content writes articles and tags, and gets 403 problem+json for responses and the queues', async () => {
    const created = await call(content, 'POST', '/v1/admin/articles', { title: 'Scoped', markdown: 'Hi.', status: 'published' });
    expect(created.statusCode).toBe(201);
    expect((await call(content, 'POST', '/v1/admin/tags', { name: 'Scopes' })).statusCode).toBe(201);
    for (const url of ['/v1/admin/responses', '/v1/admin/pings', '/v1/admin/announcements']) {
      const res = await call(content, 'GET', url);
      expect(res.statusCode, url).toBe(403);
      expect(res.headers['content-type']).toMatch(/application\/problem\+json/);
      expect(res.json().detail).toMatch(/scope "(moderation|admin)"/);
    }
  });

  it('moderation handles responses and may not write articles', async () => {
    expect((await call(moderation, 'GET', '/v1/admin/responses')).statusCode).toBe(200);
    const res = await call(moderation, 'POST', '/v1/admin/articles', { title: 'Nope', markdown: 'x' });
    expect(res.statusCode).toBe(403);
    expect(res.json()).toMatchObject({ status: 403, type: '/problems/forbidden' });
    expect(res.headers['www-authenticate']).toMatch(/insufficient_scope/);
  });

  it('admin (the default, and every token from before scopes) does everything', async () => {
    for (const url of ['/v1/admin/responses', '/v1/admin/pings', '/v1/admin/announcements', '/v1/admin/articles']) {
      expect((await t.app.inject({ method: 'GET', url, headers: t.auth })).statusCode, url).toBe(200);
    }
    // a row inserted without a scope, as the migration treats existing ones
    await t.database.db.execute(sql`insert into api_tokens (name, token_hash, prefix) values ('old', 'abc', 'iw_old')`);
    const [row] = await queryRows<{ scope: string }>(t.database.db, sql`select scope from api_tokens where name = 'old'`);
    expect(row.scope).toBe('admin');
  });

  it('whoami answers any valid token with its scope and expiry', async () => {
    const res = await call(content, 'GET', '/v1/admin/whoami');
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ token: 'writer', scope: 'content', expiresAt: null });
  });

  it('an expired token is 401 problem+json; before its expiry it works', async () => {
    const { id, token, expiresAt } = await createToken(t.database.db, 'brief', { scope: 'admin', expiresInMs: 60_000 });
    expect(expiresAt!.getTime()).toBeGreaterThan(Date.now());
    expect((await call(token, 'GET', '/v1/admin/whoami')).statusCode).toBe(200);
    // the expiry is the database's clock: move it into the past instead of waiting for it
    await t.database.db.execute(sql`update api_tokens set expires_at = now() - interval '1 second' where id = ${id}`);
    const res = await call(token, 'GET', '/v1/admin/whoami');
    expect(res.statusCode).toBe(401);
    expect(res.headers['content-type']).toMatch(/application\/problem\+json/);
    expect(res.json().detail).toMatch(/expired/);
  });

  it('durations: 30s, 10m, 12h, 90d; nothing else', () => {
    expect([parseDuration('30s'), parseDuration('10m'), parseDuration('12h'), parseDuration('90d')]).toEqual([30_000, 600_000, 43_200_000, 7_776_000_000]);
    for (const bad of ['', '0d', '10', '1w', '-5m', '1.5h', 'd']) expect(parseDuration(bad), bad).toBeNull();
  });
});

describe('the OpenAPI document', () => {
  it('names the scope of every admin operation (x-scope, security requirement, description) and documents 403', async () => {
    const doc = (await t.app.inject({ method: 'GET', url: '/openapi.json' })).json();
    const ops: [string, string, Record<string, unknown>][] = [];
    for (const [path, item] of Object.entries(doc.paths as Record<string, Record<string, Record<string, unknown>>>)) {
      if (!path.startsWith('/v1/admin')) continue;
      for (const [method, op] of Object.entries(item)) ops.push([path, method, op]);
    }
    expect(ops.length).toBeGreaterThan(10);
    for (const [path, method, op] of ops) {
      const scope = op['x-scope'];
      expect(['content', 'moderation', 'admin', 'any'], `${method} ${path}`).toContain(scope);
      expect(op.security).toEqual([{ bearerAuth: scope === 'any' ? [] : [scope] }]);
      expect(String(op.description)).toMatch(/Token scope:/);
      if (scope !== 'any') expect(Object.keys(op.responses as object), `${method} ${path}`).toContain('403');
    }
    const scopeOf = (path: string, method: string) => ops.find(([p, m]) => p === path && m === method)?.[2]['x-scope'];
    expect(scopeOf('/v1/admin/articles', 'post')).toBe('content');
    expect(scopeOf('/v1/admin/tags', 'post')).toBe('content');
    expect(scopeOf('/v1/admin/responses/{id}', 'patch')).toBe('moderation');
    expect(scopeOf('/v1/admin/pings', 'get')).toBe('admin');
    expect(scopeOf('/v1/admin/whoami', 'get')).toBe('any');
  });
});

describe('the CLI', () => {
  const dir = mkdtempSync(join(tmpdir(), 'inkwell-scopes-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const cli = async (...args: string[]) => {
    const p = runNode('src/cli/main.ts', args, { DATA_DIR: join(dir, 'data') });
    return { code: await p.exited, out: p.output() };
  };

  it('token create --scope --expires; token list shows scope, expiry and last use; bad values are usage errors', { timeout: 180_000 }, async () => {
    const made = await cli('token', 'create', '--name', 'moderator', '--scope', 'moderation', '--expires', '12h');
    expect(made.code).toBe(0);
    expect(made.out.trim().split('\n').at(-1)).toMatch(/^iw_[A-Za-z0-9_-]{43}$/);
    expect(made.out).toMatch(/scope moderation, expires \d{4}-/);
    const list = await cli('token', 'list');
    expect(list.out).toMatch(/moderator\tiw_\S+…\tscope moderation\tcreated \S+\texpires \S+\tlast used never\tactive/);
    const bad = await cli('token', 'create', '--name', 'x', '--scope', 'root', '--expires', '1w');
    expect(bad.code).toBe(2);
    expect(bad.out).toMatch(/--scope must be one of: content, moderation, admin/);
  });
});

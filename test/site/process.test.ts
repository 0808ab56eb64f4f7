// The README's promise, as a user meets it: start on an embedded database, get a
// token once, restart without a new one, stop cleanly; the CLI alongside.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import net from 'node:net';
import { afterAll, describe, expect, it } from 'vitest';

// real processes on a machine that may be busy running other test files: be generous
const SLOW = { timeout: 180_000 };
import { buildBundle, freePort, runNode } from '../helpers/process.ts';

const dir = mkdtempSync(join(tmpdir(), 'inkwell-proc-'));
const dataDir = join(dir, 'data');
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const TOKEN_LINE = /^Admin token: (iw_[A-Za-z0-9_-]+)$/m;

describe('the server process on an embedded database', () => {
  let token = '';

  it('first start: migrates, prints site and docs URLs and a one-time admin token, answers health checks', SLOW, async () => {
    const port = await freePort();
    const p = runNode('src/server.ts', [], { PORT: String(port), DATA_DIR: dataDir });
    try {
      const out = await p.waitFor(TOKEN_LINE);
      token = TOKEN_LINE.exec(out)![1];
      expect(out).toContain(`http://127.0.0.1:${port}/docs`);
      expect(out).toContain(`Site:     http://127.0.0.1:${port}/`);
      const health = await fetch(`http://127.0.0.1:${port}/healthz`);
      expect(health.status).toBe(200);
      const ready = await fetch(`http://127.0.0.1:${port}/readyz`);
      expect(await ready.json()).toEqual({ status: 'ok', database: 'pglite' });
      const who = await fetch(`http://127.0.0.1:${port}/v1/admin/whoami`, { headers: { authorization: `Bearer ${token}` } });
      expect(who.status).toBe(200);

      // while it runs, the CLI explains that the embedded database is taken
      const cli = runNode('src/cli/main.ts', ['token', 'list'], { DATA_DIR: dataDir });
      expect(await cli.exited).not.toBe(0);
      expect(cli.output()).toMatch(/in use by another Inkwell process \(pid \d+\)/);
    } finally {
      p.child.kill('SIGTERM');
    }
    expect(await p.exited).toBe(0);
  });

  it('restart on the same data, as `npm start` runs it (the built bundle): no new token; the old one still works', SLOW, async () => {
    buildBundle();
    const port = await freePort();
    const p = runNode('dist/server.js', [], { PORT: String(port), DATA_DIR: dataDir });
    try {
      const out = await p.waitFor(/API docs:/);
      expect(out).not.toMatch(/Admin token:/);
      const who = await fetch(`http://127.0.0.1:${port}/v1/admin/whoami`, { headers: { authorization: `Bearer ${token}` } });
      expect(who.status).toBe(200);
      // the bundle finds the project's files (migrations ran; the stylesheet; the version in the XML-RPC agent)
      const css = await fetch(`http://127.0.0.1:${port}/assets/inkwell.css`);
      expect(css.status).toBe(200);
      expect(await css.text()).toMatch(/body\s*\{/);
      expect((await fetch(`http://127.0.0.1:${port}/v1/articles`)).status).toBe(200);
    } finally {
      p.child.kill('SIGTERM');
    }
    expect(await p.exited).toBe(0);
  });

  it('CLI: token create prints the token alone on the last line; list shows it; revoke ends it', SLOW, async () => {
    const create = runNode('src/cli/main.ts', ['token', 'create', '--name', 'deploy bot'], { DATA_DIR: dataDir });
    expect(await create.exited).toBe(0);
    const lines = create.output().trim().split('\n');
    expect(lines.at(-1)).toMatch(/^iw_[A-Za-z0-9_-]{43}$/);

    const list = runNode('src/cli/main.ts', ['token', 'list'], { DATA_DIR: dataDir });
    expect(await list.exited).toBe(0);
    expect(list.output()).toContain('deploy bot');
    expect(list.output()).not.toContain(lines.at(-1)!);

    // a second token of that name is refused: `token revoke NAME` would end both
    const twin = runNode('src/cli/main.ts', ['token', 'create', '--name', 'deploy bot'], { DATA_DIR: dataDir });
    expect(await twin.exited).toBe(2);
    expect(twin.output()).toMatch(/already named "deploy bot"/);
    expect(twin.output()).not.toMatch(/iw_/);
    // a name that reads as an id is refused too; an id revokes that token only
    const digits = runNode('src/cli/main.ts', ['token', 'create', '--name', '1'], { DATA_DIR: dataDir });
    expect(await digits.exited).toBe(2);

    const revoke = runNode('src/cli/main.ts', ['token', 'revoke', 'deploy bot'], { DATA_DIR: dataDir });
    expect(await revoke.exited).toBe(0);
    expect(revoke.output()).toContain('Revoked 1 token.');
    const again = runNode('src/cli/main.ts', ['token', 'revoke', 'deploy bot'], { DATA_DIR: dataDir });
    expect(await again.exited).toBe(1);
  });

  it('CLI: a wrong command prints the usage and exits non-zero', SLOW, async () => {
    const p = runNode('src/cli/main.ts', ['token', 'frobnicate'], { DATA_DIR: dataDir });
    expect(await p.exited).toBe(2);
    expect(p.output()).toContain('Usage: npm run cli');
  });

  it('invalid configuration stops the process with a message naming the variable', SLOW, async () => {
    const p = runNode('src/server.ts', [], { PORT: 'abc', COMMENT_MODERATION: 'never', DATA_DIR: dataDir });
    expect(await p.exited).toBe(1);
    expect(p.output()).toContain('PORT="abc" must be an integer');
    expect(p.output()).toContain('COMMENT_MODERATION="never" must be one of: manual, first-time, open');
  });

  it('a first start on a taken port names PORT and loses no token: the next start prints it', SLOW, async () => {
    const fresh = join(dir, 'port-taken');
    const taken = await freePort();
    // a Next.js dev server sits on the port
    const squatter = net.createServer().listen(taken, '127.0.0.1');
    await new Promise((resolve) => squatter.once('listening', resolve));
    try {
      const first = runNode('src/server.ts', [], { PORT: String(taken), DATA_DIR: fresh });
      expect(await first.exited).toBe(1);
      expect(first.output()).toMatch(new RegExp(`Could not listen on 127\\.0\\.0\\.1:${taken}: .*EADDRINUSE.*PORT=`));
      expect(first.output()).not.toMatch(/Admin token:/);
    } finally {
      squatter.close();
    }
    const port = await freePort();
    const second = runNode('src/server.ts', [], { PORT: String(port), DATA_DIR: fresh });
    try {
      const out = await second.waitFor(TOKEN_LINE);
      const who = await fetch(`http://127.0.0.1:${port}/v1/admin/whoami`, { headers: { authorization: `Bearer ${TOKEN_LINE.exec(out)![1]}` } });
      expect(who.status).toBe(200);
    } finally {
      second.child.kill('SIGTERM');
    }
    expect(await second.exited).toBe(0);
  });

  it('memory:// prints a token at every start; OUTBOUND_ALLOW_PRIVATE=true warns', SLOW, async () => {
    const port = await freePort();
    const p = runNode('src/server.ts', [], { PORT: String(port), DATABASE_URL: 'memory://', OUTBOUND_ALLOW_PRIVATE: 'true' });
    try {
      const out = await p.waitFor(TOKEN_LINE);
      expect(out).toMatch(/"level":40,.*OUTBOUND_ALLOW_PRIVATE=true: .*private/);
    } finally {
      p.child.kill('SIGTERM');
    }
    expect(await p.exited).toBe(0);
  });
});

import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, rmdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import net from 'node:net';
import { inject } from 'vitest';

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => resolve(port));
    });
    s.on('error', reject);
  });
}

export interface Proc {
  child: ChildProcess;
  output(): string;
  /** resolves with the output once `pattern` appears, rejects on exit or timeout */
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<string>;
  exited: Promise<number | null>;
}

/**
 * Runs a project entry point the way npm scripts do: a TypeScript source (`src/server.ts`,
 * `src/cli/main.ts`) through tsx, a built bundle (`dist/server.js`, see `buildBundle`) as is.
 */
export function runNode(script: string, args: string[], env: Record<string, string>): Proc {
  const loader = script.endsWith('.ts') ? ['--import', 'tsx'] : ['--enable-source-maps'];
  const child = spawn(process.execPath, [...loader, script, ...args], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', TZ: 'UTC', LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return {
    child,
    output: () => out,
    exited,
    waitFor: (pattern, timeoutMs = 120_000) =>
      new Promise((resolve, reject) => {
        const started = Date.now();
        const check = () => {
          if (pattern.test(out)) return resolve(out);
          if (child.exitCode !== null) return reject(new Error(`process exited (${child.exitCode}) before ${pattern}:\n${out}`));
          if (Date.now() - started > timeoutMs) return reject(new Error(`timed out waiting for ${pattern}:\n${out}`));
          setTimeout(check, 50);
        };
        check();
      }),
  };
}

/**
 * `npm run build`: the bundle `npm start` runs (dist/server.js, dist/cli/main.js), built once per
 * test run. Files running at the same time (vitest workers) take turns, and none rebuilds it under
 * the servers another one started from it.
 */
export function buildBundle(): void {
  const run = inject('testRunDir');
  const lock = join(run, 'bundle.lock');
  const built = join(run, 'bundle.built');
  const pause = new Int32Array(new SharedArrayBuffer(4));
  for (let i = 0; ; i++) {
    try {
      mkdirSync(lock);
      break;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST' || i > 1200) throw e;
      Atomics.wait(pause, 0, 0, 100);
    }
  }
  try {
    if (existsSync(built)) return;
    const r = spawnSync('npm', ['run', '-s', 'build'], { cwd: ROOT, encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`npm run build failed:\n${r.stdout}${r.stderr}`);
    writeFileSync(built, '');
  } finally {
    rmdirSync(lock);
  }
}

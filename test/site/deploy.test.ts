// docker-compose.yml and deploy/nginx.conf, checked without Docker (none on CI): the
// compose file parses and has the multi-process shape, the nginx configuration is
// balanced and points at the replicas, and what Inkwell reads from it is a valid config.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { loadConfig } from '../../src/config.ts';
import { ROOT } from '../helpers/process.ts';

interface Service {
  image?: string;
  build?: string;
  deploy?: { replicas?: number };
  environment?: Record<string, string>;
  ports?: string[];
  volumes?: string[];
  depends_on?: Record<string, { condition: string }>;
}

const compose = parse(readFileSync(join(ROOT, 'docker-compose.yml'), 'utf8')) as { services: Record<string, Service> };
const nginx = readFileSync(join(ROOT, 'deploy/nginx.conf'), 'utf8');

describe('docker-compose.yml', () => {
  it('runs two Inkwell replicas on PostgreSQL behind nginx (official image), which alone is published', () => {
    const { db, inkwell, proxy } = compose.services;
    expect(db.image).toMatch(/^postgres:\d+/);
    expect(inkwell.build).toBe('.');
    expect(inkwell.deploy?.replicas).toBe(2);
    expect(inkwell.ports).toBeUndefined();
    expect(proxy.image).toMatch(/^nginx:[\d.]+(-alpine)?$/);
    expect(proxy.ports).toEqual(['3000:80']);
    expect(proxy.volumes).toContain('./deploy/nginx.conf:/etc/nginx/nginx.conf:ro');
    expect(proxy.depends_on?.inkwell.condition).toBe('service_healthy');
  });

  it('gives the replicas an environment Inkwell accepts, trusting the one proxy in front', () => {
    const env = compose.services.inkwell.environment!;
    expect(env.TRUST_PROXY).toBe('1');
    const config = loadConfig(env);
    expect(config.trustProxy).toBe(1);
    expect(config.databaseUrl).toMatch(/^postgres:\/\/.*@db:5432\//);
    expect(config.host).toBe('0.0.0.0');
  });
});

describe('deploy/nginx.conf', () => {
  const code = nginx.replace(/#.*$/gm, '');

  it('is balanced: every block closes, every directive ends with ;', () => {
    let depth = 0;
    for (const ch of code) {
      if (ch === '{') depth++;
      if (ch === '}') depth--;
      expect(depth).toBeGreaterThanOrEqual(0);
    }
    expect(depth).toBe(0);
    for (const line of code.split('\n').map((l) => l.trim()).filter(Boolean)) {
      expect(line, line).toMatch(/[;{}]$/);
    }
  });

  it('proxies to the inkwell service, keeps connections alive and passes the client address on', () => {
    expect(code).toMatch(/upstream inkwell \{[^}]*server inkwell:3000;/);
    expect(code).toMatch(/proxy_pass http:\/\/inkwell;/);
    expect(code).toMatch(/proxy_set_header X-Forwarded-For \$proxy_add_x_forwarded_for;/);
    expect(code).toMatch(/proxy_http_version 1\.1;/);
    expect(code).toMatch(/listen 80;/);
  });
});

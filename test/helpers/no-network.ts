// No test may reach a real host: only loopback exists here, and a test that tries
// anything else must fail loudly instead of hanging or silently passing.
import net from 'node:net';
import { afterAll, expect } from 'vitest';

const attempts: string[] = [];
const LOOPBACK = /^(127\.\d+\.\d+\.\d+|::1|::ffff:127\.\d+\.\d+\.\d+|localhost)$/i;

const originalConnect = net.Socket.prototype.connect;
net.Socket.prototype.connect = function patchedConnect(this: net.Socket, ...args: unknown[]) {
  const first = args[0] as { host?: string; path?: string; port?: number } | number | string;
  let host: string | undefined;
  if (typeof first === 'object' && first !== null && !Array.isArray(first)) {
    host = first.path ? undefined : (first.host ?? 'localhost');
  } else if (typeof first === 'number' || (typeof first === 'string' && /^\d+$/.test(first))) {
    host = typeof args[1] === 'string' ? (args[1] as string) : 'localhost';
  }
  if (host !== undefined && !LOOPBACK.test(host.replace(/^\[|\]$/g, ''))) {
    attempts.push(host);
    throw new Error(`no-network guard: a test tried to connect to ${host}; only loopback is allowed`);
  }
  return (originalConnect as (...a: unknown[]) => net.Socket).apply(this, args);
} as typeof net.Socket.prototype.connect;

/** For the guard's own tests and for tests that provoke an attempt on purpose. */
export function takeNetworkAttempts(): string[] {
  return attempts.splice(0);
}

afterAll(() => {
  expect(attempts, 'tests attempted to reach non-loopback hosts').toEqual([]);
});

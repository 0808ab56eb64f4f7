// One autocannon run in a process of its own, so the load generator never shares an
// event loop with the servers or the orchestrator. Input: a JSON spec file (argv[2]).
// Output: one JSON line on stdout with the figures run.ts reports.
import { readFileSync } from 'node:fs';
import autocannon from 'autocannon';

export interface LoadSpec {
  url: string;
  method?: 'GET' | 'POST' | 'HEAD';
  headers?: Record<string, string>;
  body?: string;
  /** `[<id>]` in the body becomes a fresh id on every request */
  idReplacement?: boolean;
  /** rotate through these paths (cache-busting scenarios) */
  paths?: string[];
  /** where in `paths` to start */
  pathOffset?: number;
  connections: number;
  duration: number;
  /** this many requests, then stop (`duration` ignored) */
  amount?: number;
  /** a response whose body contains this counts as a mismatch (XML-RPC faults travel as HTTP 200) */
  failIfBodyContains?: string;
}

export interface LoadResult {
  requests: number;
  rps: number;
  p50: number;
  p99: number;
  max: number;
  errors: number;
  timeouts: number;
  mismatches: number;
  statusCodes: Record<string, number>;
  bytesPerSec: number;
}

const spec = JSON.parse(readFileSync(process.argv[2], 'utf8')) as LoadSpec;
let next = spec.pathOffset ?? 0;
const result = await autocannon({
  url: spec.url,
  method: spec.method ?? 'GET',
  headers: spec.headers,
  body: spec.body,
  idReplacement: spec.idReplacement,
  connections: spec.connections,
  duration: spec.duration,
  ...(spec.amount ? { amount: spec.amount } : {}),
  pipelining: 1,
  ...(spec.failIfBodyContains ? { verifyBody: (body: string) => !body.includes(spec.failIfBodyContains!) } : {}),
  ...(spec.paths?.length
    ? { requests: [{ setupRequest: (req: Record<string, unknown>) => ({ ...req, path: spec.paths![next++ % spec.paths!.length] }) }] }
    : {}),
});
const statusCodes: Record<string, number> = {};
for (const [code, v] of Object.entries(result.statusCodeStats ?? {})) statusCodes[code] = (v as { count: number }).count;
const out: LoadResult = {
  requests: result.requests.total,
  rps: result.requests.total / result.duration,
  p50: result.latency.p50,
  p99: result.latency.p99,
  max: result.latency.max,
  errors: result.errors,
  timeouts: result.timeouts,
  mismatches: result.mismatches ?? 0,
  statusCodes,
  bytesPerSec: result.throughput.average,
};
process.stdout.write(`${JSON.stringify(out)}\n`);

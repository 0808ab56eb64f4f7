// Fake remote blogs on 127.0.0.1: plain node:http servers that answer fixed pages
// (with whatever headers a test wants), record every request, and count connections,
// so a test can prove that a refused URL never reached the socket. Below them, the
// independent peers in Python (test/peers/): a sender on xmlrpc.client and a remote
// blog on http.server + xmlrpc.server.
import { execFile, spawn } from 'node:child_process';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';

export interface RecordedRequest {
  method: string;
  /** path and query as received */
  url: string;
  headers: http.IncomingHttpHeaders;
  body: string;
}

export interface FakePage {
  status?: number;
  /** a header given as an array is sent once per value (several `Link` headers) */
  headers?: Record<string, string | string[]>;
  body?: string | Buffer;
  /** wait this long before answering (timeouts) */
  delayMs?: number;
}

export type FakeHandler = (req: RecordedRequest, res: http.ServerResponse) => void | Promise<void>;

export interface FakeBlog {
  /** `http://127.0.0.1:PORT` */
  origin: string;
  port: number;
  url(path: string): string;
  /** answer `path` (exact path + query first, then the path alone) with a page or a handler */
  page(path: string, page: FakePage | FakeHandler): void;
  requests: RecordedRequest[];
  /** requests to one path (query ignored) */
  requestsTo(path: string): RecordedRequest[];
  /** TCP connections accepted so far */
  connections(): number;
  close(): Promise<void>;
}

export async function startFakeBlog(host = '127.0.0.1'): Promise<FakeBlog> {
  const pages = new Map<string, FakePage | FakeHandler>();
  const requests: RecordedRequest[] = [];
  let connections = 0;
  const server = http.createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const rec: RecordedRequest = { method: req.method ?? 'GET', url: req.url ?? '/', headers: req.headers, body: Buffer.concat(chunks).toString('utf8') };
    requests.push(rec);
    const path = rec.url;
    const entry = pages.get(path) ?? pages.get(path.split('?')[0]);
    if (!entry) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
      return;
    }
    if (typeof entry === 'function') {
      await entry(rec, res);
      return;
    }
    if (entry.delayMs) await new Promise((r) => setTimeout(r, entry.delayMs));
    if (res.destroyed) return;
    const headers: http.OutgoingHttpHeaders = { 'content-type': 'text/html; charset=utf-8', ...entry.headers };
    res.writeHead(entry.status ?? 200, headers);
    res.end(rec.method === 'HEAD' ? undefined : entry.body ?? '');
  });
  server.on('connection', () => connections++);
  // keep-alive sockets would hold close() open
  server.keepAliveTimeout = 1;
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  const port = (server.address() as AddressInfo).port;
  const origin = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
  return {
    origin,
    port,
    url: (path) => origin + path,
    page: (path, page) => void pages.set(path, page),
    requests,
    requestsTo: (path) => requests.filter((r) => r.url.split('?')[0] === path),
    connections: () => connections,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** A minimal HTML page; `body` is inserted as is. */
export function html(body: string, opts: { title?: string; head?: string } = {}): string {
  return `<!doctype html><html><head><meta charset="utf-8"><title>${opts.title ?? 'A remote page'}</title>${opts.head ?? ''}</head><body>${body}</body></html>`;
}

// ---- independent peers in Python (standard library only) ----

const PEERS = fileURLToPath(new URL('../peers/', import.meta.url));

export interface PythonCallResult {
  ok?: unknown;
  fault?: { code: number; string: string };
  protocol_error?: { status: number };
  error?: string;
}

/** Calls `url` with Python's xmlrpc.client, one call after another; returns what Python decoded. */
export function pythonXmlRpc(url: string, calls: [string, unknown[]][]): Promise<PythonCallResult[]> {
  return new Promise((resolve, reject) => {
    const child = execFile('python3', [`${PEERS}xmlrpc_sender.py`, url], { timeout: 20_000 }, (err, stdout, stderr) => {
      if (err) return reject(new Error(`xmlrpc_sender.py failed: ${err.message}\n${stderr}`));
      resolve(JSON.parse(stdout));
    });
    child.stdin!.end(JSON.stringify(calls));
  });
}

export interface PythonBlogSpec {
  pages?: Record<string, { status?: number; headers?: Record<string, string | string[]>; body?: string }>;
  /** pingback.ping answers this fault code for targets with these paths */
  faults?: Record<string, number>;
}

export interface PythonBlog {
  origin: string;
  url(path: string): string;
  log(): Promise<{ pingbacks: [string, string][]; webmentions: { path: string; content_type: string; source: string; target: string }[] }>;
  close(): Promise<void>;
}

/** A remote blog on http.server + xmlrpc.server's dispatcher (test/peers/remote_blog.py). */
export function startPythonBlog(spec: PythonBlogSpec): Promise<PythonBlog> {
  return new Promise((resolve, reject) => {
    const child = spawn('python3', [`${PEERS}remote_blog.py`], { stdio: ['pipe', 'pipe', 'inherit'] });
    child.once('error', reject);
    child.stdin.end(JSON.stringify(spec));
    let buffered = '';
    const onData = (chunk: Buffer) => {
      buffered += chunk.toString();
      const m = /PORT (\d+)/.exec(buffered);
      if (!m) return;
      child.stdout.off('data', onData);
      const origin = `http://127.0.0.1:${m[1]}`;
      resolve({
        origin,
        url: (path) => origin + path,
        log: async () => (await fetch(`${origin}/__log`)).json() as never,
        close: () =>
          new Promise<void>((done) => {
            if (child.exitCode !== null) return done();
            child.once('exit', () => done());
            child.kill('SIGTERM');
          }),
      });
    };
    child.stdout.on('data', onData);
  });
}

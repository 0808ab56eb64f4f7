// The ceiling: a bare Fastify server that answers the very bytes Inkwell answered
// (status, headers, body — captured once from Inkwell by run.ts) from memory.
// No hooks, no validation, no database. Input: argv[2] = a JSON file of answers.
// Prints `listening <port>` when ready.
import { readFileSync } from 'node:fs';
import Fastify from 'fastify';

export interface BareAnswer {
  method: string;
  url: string;
  /** the request carries If-None-Match (the 304 scenario) */
  conditional: boolean;
  status: number;
  headers: Record<string, string | string[]>;
  /** base64 */
  body: string;
}

const keyOf = (method: string, url: string, conditional: boolean) => `${method} ${url}${conditional ? ' ?inm' : ''}`;
const answers = new Map<string, { status: number; headers: Record<string, string | string[]>; body: Buffer }>();
for (const a of JSON.parse(readFileSync(process.argv[2], 'utf8')) as BareAnswer[]) {
  answers.set(keyOf(a.method, a.url, a.conditional), { status: a.status, headers: a.headers, body: Buffer.from(a.body, 'base64') });
}

const app = Fastify({ logger: false });
app.removeAllContentTypeParsers();
app.addContentTypeParser('*', { parseAs: 'buffer' }, (_req, body, done) => done(null, body));
app.route({
  method: ['GET', 'HEAD', 'POST'],
  url: '/*',
  handler: (req, reply) => {
    const a = answers.get(keyOf(req.method === 'HEAD' ? 'GET' : req.method, req.url, req.headers['if-none-match'] !== undefined));
    if (!a) return reply.code(404).send('not captured');
    return reply.code(a.status).headers(a.headers).send(a.body);
  },
});
await app.listen({ port: 0, host: '127.0.0.1' });
const address = app.server.address();
process.stdout.write(`listening ${typeof address === 'object' && address ? address.port : 0}\n`);
process.on('SIGTERM', () => void app.close().then(() => process.exit(0)));

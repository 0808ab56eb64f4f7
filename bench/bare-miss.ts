// The ceiling of a page nobody has read (PostgreSQL only): a bare Fastify server that answers
// `GET /v1/articles?page=N` with the least work a cold page of 20 can cost. The date order is
// held in memory (as Inkwell keeps it between two changes); each request is one prepared
// statement reading the page's articles with their author, tags and response counts (what
// Inkwell's answer shows besides what it derives), JSON.stringify, and gzip level 4 in zlib's
// pool in one chunk. No hooks, no validation, no cache, no ETag. What it leaves out (a
// permalink, announcements, a feature image, the pagination links) Inkwell adds.
// Input: DATABASE_URL. Prints `listening <port>` when ready.
import { promisify } from 'node:util';
import zlib from 'node:zlib';
import Fastify from 'fastify';
import postgres from 'postgres';

const PAGE = 20;
const gzip = promisify(zlib.gzip);
const sql = postgres(process.env.DATABASE_URL!, { max: 10 });
const order = (await sql<{ id: number }[]>`select id from articles where status = 'published' order by published_at desc, id desc`).map((r) => r.id);

const app = Fastify({ logger: false });
app.get<{ Querystring: { page?: string } }>('/v1/articles', async (req, reply) => {
  const page = Math.max(1, Number(req.query.page ?? 1) || 1);
  const ids = order.slice((page - 1) * PAGE, page * PAGE);
  const data = await sql`
    select a.id, a.slug, a.title, a.excerpt, a.html, a.status, a.published_at, a.updated_at, a.reading_time_minutes,
           a.comments_open, a.pings_open, au.slug as author_slug, au.name as author_name,
           array(select t.name from article_tags at join tags t on t.id = at.tag_id where at.article_id = a.id order by at.position) as tags,
           (select count(*)::int from responses r where r.article_id = a.id and r.status = 'approved') as responses
      from articles a left join authors au on au.id = a.author_id
     where a.id = any(${ids}::int[])
     order by a.published_at desc, a.id desc`;
  const body = JSON.stringify({ data, meta: { pagination: { page, limit: PAGE, total: order.length } } });
  const gz = await gzip(body, { level: 4, chunkSize: Math.max(zlib.constants.Z_DEFAULT_CHUNK, body.length + 1024) });
  return reply.header('content-type', 'application/json; charset=utf-8').header('content-encoding', 'gzip').header('vary', 'accept-encoding').send(gz);
});
await app.listen({ port: 0, host: '127.0.0.1' });
const address = app.server.address();
process.stdout.write(`listening ${typeof address === 'object' && address ? address.port : 0}\n`);
process.on('SIGTERM', () => void app.close().then(() => sql.end()).then(() => process.exit(0)));

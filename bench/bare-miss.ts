// The ceilings of a page nobody has read (PostgreSQL only): a bare Fastify server that answers
// `GET /v1/articles?page=N` and `?q=words` with the least work such a page can cost. A page
// by number: the date order held in memory (as Inkwell keeps it between two changes), then
// one prepared statement reading the page's 20 articles with their author, tags and response
// count (what Inkwell's answer shows besides what it derives). A search: one statement,
// planned for its words (unnamed), that ranks the newest 100 matches as Inkwell's window does
// and reads the best 20 the same way; no total (Inkwell estimates one). Then JSON.stringify,
// and gzip level 4 in zlib's pool in one chunk. No hooks, no validation, no cache, no ETag.
// What it leaves out (a permalink, announcements, a feature image, the pagination and its
// links, the total of a search) Inkwell adds. Input: DATABASE_URL. Prints `listening <port>`.
import { promisify } from 'node:util';
import zlib from 'node:zlib';
import Fastify from 'fastify';
import postgres from 'postgres';

const PAGE = 20;
const gzip = promisify(zlib.gzip);
const sql = postgres(process.env.DATABASE_URL!, { max: 10 });
/** searches go unnamed: planned for their words, as Inkwell's window is (a generic plan reads every match) */
const unnamed = postgres(process.env.DATABASE_URL!, { max: 10, prepare: false });
const WINDOW = 100;
/** what a page shows of each article, `a` and `au` joined */
const columns = (db: postgres.Sql) => db`a.id, a.slug, a.title, a.excerpt, a.html, a.status, a.published_at, a.updated_at, a.reading_time_minutes,
  a.comments_open, a.pings_open, au.slug as author_slug, au.name as author_name,
  array(select t.name from article_tags at join tags t on t.id = at.tag_id where at.article_id = a.id order by at.position) as tags,
  (select count(*)::int from responses r where r.article_id = a.id and r.status = 'approved') as responses`;
const order = (await sql<{ id: number }[]>`select id from articles where status = 'published' order by published_at desc, id desc`).map((r) => r.id);

const app = Fastify({ logger: false });
app.get<{ Querystring: { page?: string; q?: string } }>('/v1/articles', async (req, reply) => {
  const page = Math.max(1, Number(req.query.page ?? 1) || 1);
  const data = req.query.q ? await search(req.query.q) : await byNumber(page);
  const body = JSON.stringify({ data, meta: { pagination: { page, limit: PAGE, total: req.query.q ? null : order.length } } });
  const gz = await gzip(body, { level: 4, chunkSize: Math.max(zlib.constants.Z_DEFAULT_CHUNK, body.length + 1024) });
  return reply.header('content-type', 'application/json; charset=utf-8').header('content-encoding', 'gzip').header('vary', 'accept-encoding').send(gz);
});

function byNumber(page: number) {
  const ids = order.slice((page - 1) * PAGE, page * PAGE);
  return sql`select ${columns(sql)} from articles a left join authors au on au.id = a.author_id
              where a.id = any(${ids}::int[]) order by a.published_at desc, a.id desc`;
}

function search(words: string) {
  const query = unnamed`websearch_to_tsquery('english', inkwell_unaccent(${words}))`;
  return unnamed`
    with w as materialized (select a.id, a.published_at, a.search from articles a
                             where a.status = 'published' and a.search @@ ${query}
                             order by a.published_at desc, a.id desc limit ${WINDOW}),
         top as (select id, published_at, ts_rank(search, ${query}) as rank from w order by rank desc, published_at desc, id desc limit ${PAGE})
    select ${columns(unnamed)} from top join articles a on a.id = top.id left join authors au on au.id = a.author_id
     order by top.rank desc, top.published_at desc, top.id desc`;
}

await app.listen({ port: 0, host: '127.0.0.1' });
const address = app.server.address();
process.stdout.write(`listening ${typeof address === 'object' && address ? address.port : 0}\n`);
process.on('SIGTERM', () => void app.close().then(() => Promise.all([sql.end(), unnamed.end()])).then(() => process.exit(0)));

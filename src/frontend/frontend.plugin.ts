// The reference frontend (SPEC §10): server-rendered pages on the public /v1 contract.
// Registered last and only when FRONTEND is on. Pages get the API's caching (strong
// ETag over the bytes, 304, Cache-Control) and a Content-Security-Policy that allows
// no script at all; everything users wrote is escaped by the `html` template.
import { readFileSync } from 'node:fs';
import type { FastifyInstance, FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import type { Config } from '../config.ts';
import { parsePermalink } from '../articles/permalink.ts';
import { fromRoot } from '../paths.ts';
import { apiClient, type Answer, type Article, type Page, type Redirect, type Response, type Site, type Tag } from './api.ts';
import { articlePage, FORM_FIELDS, type FormState, type FormValues } from './article.page.ts';
import { notFoundPage, type Paths } from './layout.ts';
import { listPage } from './list.page.ts';

const PER_PAGE = 10;
/** responses shown on one article page: 10 API pages of 100 */
const MAX_RESPONSE_PAGES = 10;

export const PAGE_CSP = [
  "default-src 'none'",
  "style-src 'self'",
  // article and avatar images may live anywhere on https
  "img-src 'self' https: data:",
  "form-action 'self'",
  "base-uri 'none'",
  "frame-ancestors 'none'",
].join('; ');

const STYLESHEET = readFileSync(fromRoot('src/frontend/style.css'), 'utf8');

/**
 * The request target as a URL on SITE_URL's origin. Only the path and query count: an
 * absolute-form target (`GET http://elsewhere/x HTTP/1.1`, RFC 9112 §3.2.2) loses the
 * scheme and host it names. Appended, not resolved: an origin-form target like `//host/x`
 * stays a path on our origin. Null when there is no path to speak of.
 */
function onOurOrigin(siteUrl: string, target: string): URL | null {
  let path = target;
  if (!path.startsWith('/')) {
    const absolute = URL.parse(target);
    path = absolute ? absolute.pathname + absolute.search : '';
  }
  return path.startsWith('/') ? URL.parse(new URL(siteUrl).origin + path) : null;
}

export interface FrontendOptions {
  config: Config;
  /** what article pages carry so other blogs find our pingback and Webmention endpoints */
  discoveryHeaders: () => Record<string, string>;
}

export const frontendPlugin: FastifyPluginAsync<FrontendOptions> = async (app, { config, discoveryHeaders }) => {
  const site = new URL(config.siteUrl);
  // Article pages live at SITE_URL + PERMALINK. They are ours only when SITE_URL is this
  // server (the default); otherwise another frontend owns them and we keep to the lists.
  const servesArticles = site.origin === new URL(config.apiUrl).origin;
  const base = servesArticles ? site.pathname.replace(/\/$/, '') : '';
  const paths: Paths = {
    base,
    home: `${base}/`,
    tag: (slug) => `${base}/tags/${encodeURIComponent(slug)}/`,
    stylesheet: `${base}/assets/inkwell.css`,
    comment: (slug) => `${base}/comments/${encodeURIComponent(slug)}`,
    docs: `${config.apiUrl}/docs`,
  };
  await app.register(async (pages) => frontendRoutes(pages, { config, paths, servesArticles, discoveryHeaders }), { prefix: base });
};

interface RouteOptions extends FrontendOptions {
  paths: Paths;
  servesArticles: boolean;
}

async function frontendRoutes(app: FastifyInstance, { config, paths, servesArticles, discoveryHeaders }: RouteOptions) {
  const api = apiClient(app);
  // forms are parsed by the root's @fastify/formbody (app.ts); the comment form posts here first (Post/Redirect/Get)

  // the parameters pages read; others (utm_*, fbclid, ref…) are ignored and share the page's cache entry
  const cached = { config: { publicCache: true, cacheQuery: ['page', 'comment', 'replytocom'] }, schema: { hide: true } };

  // headers go on before send: the response cache keeps what the reply carries when onSend begins
  const sendPage = (reply: FastifyReply, status: number, body: string) =>
    reply.code(status).type('text/html; charset=utf-8').header('content-security-policy', PAGE_CSP).send(body);

  /** A failed API read fails the page the same way: its problem+json goes out as is. */
  const sendProblem = (reply: FastifyReply, res: Answer<unknown>) => {
    for (const h of ['retry-after', 'cache-control']) if (res.headers[h] !== undefined) reply.header(h, res.headers[h]);
    return reply.code(res.status).type('application/problem+json; charset=utf-8').send(JSON.stringify(res.body));
  };

  const loadSite = async (req: FastifyRequest) => (await api.get<Site>(req, '/v1/site')).body;

  const notFound = async (req: FastifyRequest, reply: FastifyReply) =>
    sendPage(reply.header('cache-control', 'no-store'), 404, notFoundPage(await loadSite(req), paths));

  /** The article, following one renamed-slug redirect; null when there is none to show. */
  async function loadArticle(req: FastifyRequest, slug: string): Promise<Answer<Article> | null> {
    let res = await api.get<Article>(req, `/v1/articles/${encodeURIComponent(slug)}`);
    const moved = res.status === 301 ? /\/v1\/articles\/([^/?]+)$/.exec(String(res.headers.location ?? ''))?.[1] : undefined;
    if (moved) res = await api.get<Article>(req, `/v1/articles/${moved}`);
    return res.status === 404 || res.status === 301 ? null : res;
  }

  /** The whole approved conversation, or the failed API answer. */
  async function loadResponses(req: FastifyRequest, slug: string): Promise<{ list: Response[] } | { failed: Answer<unknown> }> {
    const list: Response[] = [];
    for (let page = 1; page <= MAX_RESPONSE_PAGES; page++) {
      const res = await api.get<Page<Response>>(req, `/v1/articles/${encodeURIComponent(slug)}/responses`, { page, limit: 100 });
      // 404: the article was unpublished between the two reads; show it without responses
      if (res.status === 404) break;
      if (res.status !== 200) return { failed: res };
      list.push(...res.body.data);
      if (!res.body.meta.pagination.next) break;
    }
    return { list };
  }

  /** `?page=` as a page number; null when it is not one (that page does not exist). */
  const pageParam = (req: FastifyRequest): number | null => {
    const raw = (req.query as Record<string, unknown>).page;
    if (raw === undefined) return 1;
    return typeof raw === 'string' && /^[1-9]\d{0,4}$/.test(raw) ? Number(raw) : null;
  };

  async function renderList(req: FastifyRequest, reply: FastifyReply, opts: { tag?: Tag; path: string }) {
    const page = pageParam(req);
    if (page === null) return notFound(req, reply);
    const [site, list] = await Promise.all([
      loadSite(req),
      api.get<Page<Article>>(req, '/v1/articles', { page, limit: PER_PAGE, tag: opts.tag?.slug }),
    ]);
    if (list.status !== 200) return sendProblem(reply, list);
    if (page > 1 && list.body.data.length === 0) return notFound(req, reply);
    const { tag } = opts;
    const suffix = page > 1 ? ` (page ${page})` : '';
    return sendPage(
      reply,
      200,
      listPage({
        site,
        paths,
        list: list.body,
        path: opts.path,
        heading: tag ? `Articles tagged “${tag.name}”` : 'Latest articles',
        intro: tag?.description || undefined,
        title: tag ? `Tagged “${tag.name}”${suffix}` : page > 1 ? `Page ${page}` : undefined,
      }),
    );
  }

  /** An old address (an imported WordPress permalink, `/?p=<id>`): 301 to where it went, as the API says; false when it went nowhere. */
  async function redirectOld(req: FastifyRequest, reply: FastifyReply, path: string): Promise<boolean> {
    const res = await api.get<Redirect>(req, '/v1/redirects', { path });
    if (res.status !== 200) return false;
    reply.header('cache-control', 'public, max-age=300').redirect(res.body.location, 301);
    return true;
  }

  app.get('/', cached, async (req, reply) => {
    // WordPress's address of a post by id
    const p = (req.query as Record<string, unknown>).p;
    if (typeof p === 'string' && /^\d{1,18}$/.test(p) && (await redirectOld(req, reply, `/?p=${p}`))) return reply;
    return renderList(req, reply, { path: paths.home });
  });

  app.get<{ Params: { slug: string } }>('/tags/:slug/', cached, async (req, reply) => {
    const tag = await api.get<Tag>(req, `/v1/tags/${encodeURIComponent(req.params.slug)}`);
    if (tag.status === 404) return notFound(req, reply);
    if (tag.status !== 200) return sendProblem(reply, tag);
    return renderList(req, reply, { tag: tag.body, path: paths.tag(tag.body.slug) });
  });

  app.get('/assets/inkwell.css', cached, (_req, reply) => reply.type('text/css; charset=utf-8').send(STYLESHEET));

  async function renderArticle(req: FastifyRequest, reply: FastifyReply, article: Article, form: FormState, status = 200) {
    const [site, responses] = await Promise.all([loadSite(req), loadResponses(req, article.slug)]);
    if ('failed' in responses) return sendProblem(reply, responses.failed);
    // discovery for other blogs: the headers the API's article reads carry, naming the endpoints of the page's <link>s
    reply.headers(discoveryHeaders());
    const parentId = form.values?.parentId;
    const replyTo = parentId ? responses.list.find((r) => r.type === 'comment' && String(r.id) === parentId) : undefined;
    // a reply to a comment that is not (or no longer) shown could never be posted: offer a new thread instead
    const replyGone = Boolean(parentId && !replyTo);
    const values = replyGone ? { ...form.values, parentId: undefined } : form.values;
    const errors = replyGone ? form.errors?.filter((e) => e.pointer !== '/body/parentId') : form.errors;
    return sendPage(reply, status, articlePage({ site, paths, article, responses: responses.list, form: { ...form, values, errors, replyTo, replyGone } }));
  }

  // A draft preview: never cached, never indexed, no reply form.
  app.get<{ Params: { token: string } }>('/preview/:token/', { schema: { hide: true } }, async (req, reply) => {
    reply.header('cache-control', 'private, no-store').header('x-robots-tag', 'noindex');
    const res = await api.get<Article>(req, `/v1/preview/${encodeURIComponent(req.params.token)}`);
    if (res.status === 404) return notFound(req, reply);
    if (res.status !== 200) return sendProblem(reply, res);
    const site = await loadSite(req);
    return sendPage(reply, 200, articlePage({ site, paths, article: res.body, responses: [], form: {}, preview: true }));
  });

  // Everything else under the frontend: an article at its permalink, or a 404 page.
  app.get('/*', cached, async (req, reply) => {
    const url = onOurOrigin(config.siteUrl, req.url);
    if (!url) return reply.callNotFound();
    const slug = servesArticles ? parsePermalink(config, url.href)?.slug : undefined;
    const found = slug ? await loadArticle(req, slug) : null;
    if (!found && servesArticles && url.pathname.length <= 2048 && !/^\/v1(\/|$)/.test(url.pathname) && (await redirectOld(req, reply, url.pathname))) return reply;
    if (!found) {
      // API clients (and anything under /v1) keep getting problem+json; browsers get a page
      const wantsPage = /text\/html|application\/xhtml\+xml/.test(req.headers.accept ?? '') && !/^\/v1(\/|$)/.test(url.pathname);
      return wantsPage ? notFound(req, reply) : reply.callNotFound();
    }
    if (found.status !== 200) return sendProblem(reply, found);
    const article = found.body;
    // one address per article: a renamed slug, a wrong date or a missing slash moves to the permalink
    if (new URL(article.url).pathname !== url.pathname) return reply.redirect(article.url + url.search, 301);

    const q = req.query as Record<string, unknown>;
    const form: FormState = {};
    if (q.comment === 'pending') form.posted = { pending: true };
    else if (typeof q.comment === 'string' && /^\d{1,10}$/.test(q.comment)) form.posted = { id: Number(q.comment) };
    if (typeof q.replytocom === 'string' && /^\d{1,10}$/.test(q.replytocom)) form.values = { parentId: q.replytocom };
    return renderArticle(req, reply, article, form);
  });

  // The reply form posts here; the API decides. Success redirects to the article (303, so
  // a reload does not post twice); a refusal renders the page again with the reader's
  // words kept and the errors next to their fields.
  app.post<{ Params: { slug: string } }>('/comments/:slug', { schema: { hide: true } }, async (req, reply) => {
    const found = servesArticles ? await loadArticle(req, req.params.slug) : null;
    if (!found) return notFound(req, reply);
    if (found.status !== 200) return sendProblem(reply, found);
    const article = found.body;

    const form = (req.body && typeof req.body === 'object' ? req.body : {}) as Record<string, unknown>;
    const text = (k: string) => (typeof form[k] === 'string' ? (form[k] as string) : '');
    const values: FormValues = {};
    for (const k of FORM_FIELDS) values[k] = text(k);
    const fields: Record<string, string> = { authorName: values.authorName!, authorEmail: values.authorEmail!, body: values.body!, website: text('website') };
    if (values.authorUrl!.trim()) fields.authorUrl = values.authorUrl!.trim();
    if (values.parentId) fields.parentId = values.parentId;

    const res = await api.postComment(req, article.slug, fields);
    if (res.status === 201) {
      const pending = res.body.status !== 'approved';
      const to = pending ? `${article.url}?comment=pending#respond` : `${article.url}?comment=${res.body.id}#comment-${res.body.id}`;
      return reply.redirect(to, 303);
    }
    if (res.status === 404) return notFound(req, reply);
    if (res.status >= 500) return sendProblem(reply, res);
    if (res.headers['retry-after'] !== undefined) reply.header('retry-after', res.headers['retry-after']);
    reply.header('cache-control', 'no-store');
    const errors = res.body?.errors ?? [];
    // a 400 with field errors speaks through them; other refusals (closed, duplicate, too fast) through their detail
    const problem = res.status === 400 && errors.length ? undefined : (res.body?.detail ?? 'The comment could not be posted.');
    return renderArticle(req, reply, article, { values, errors, problem }, res.status);
  });
}

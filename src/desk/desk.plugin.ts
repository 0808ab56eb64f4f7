// The editor's desk (SPEC §16): server-rendered pages at /desk/ on the services the admin
// API uses. A token signs in once; then a session cookie (HttpOnly, SameSite=Strict,
// Secure over https, idle expiry) whose row in PostgreSQL names the token's id, never the
// token, and is checked against the live token on every request (a revoked token ends the
// session). Every POST must come from this origin (Origin, else Referer) and carry the
// session's CSRF token. The pages allow no inline script and no inline style (CSP).
import { readFileSync } from 'node:fs';
import fastifyCookie, { Signer } from '@fastify/cookie';
import fastifyCsrf from '@fastify/csrf-protection';
import fastifySession from '@fastify/session';
import type { FastifyInstance, FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import type { Config } from '../config.ts';
import type { VerifiedToken } from '../auth/tokens.service.ts';
import { scopeAllows } from '../http/auth.ts';
import { AppError } from '../http/errors.ts';
import { fromRoot } from '../paths.ts';
import type { DeskServices } from './desk.services.ts';
import { articleRoutes } from './articles.routes.ts';
import { moderationRoutes } from './moderation.routes.ts';
import { outboxRoutes } from './outbox.routes.ts';
import { DESK, errorPage, SECTION_SCOPE, signInPage, type Section, type Viewer } from './pages/layout.ts';

declare module 'fastify' {
  interface Session {
    /** the signed-in token's id (the token itself is never kept) */
    tokenId?: number;
    /** the editor's time zone (IANA) */
    zone?: string;
    /** a one-time message for the next page (Post/Redirect/Get) */
    notice?: string;
    _csrf?: string;
  }
  interface FastifyRequest {
    deskToken?: VerifiedToken;
  }
}

/** No inline script or style; forms post here, and the preview link's redirect may lead to the site (SITE_URL). */
const deskCsp = (siteOrigin: string) =>
  ["default-src 'none'", "script-src 'self'", "style-src 'self'", "img-src 'self' https: data:", `form-action 'self' ${siteOrigin}`, "base-uri 'none'", "frame-ancestors 'none'"].join('; ');
const COOKIE = 'inkwell_desk';
const ASSETS = {
  'desk.css': { type: 'text/css; charset=utf-8', body: readFileSync(fromRoot('src/desk/desk.css'), 'utf8') },
  'desk.js': { type: 'text/javascript; charset=utf-8', body: readFileSync(fromRoot('src/desk/desk.js'), 'utf8') },
};

/** What the desk's route modules share. */
export interface DeskContext {
  desk: DeskServices;
  config: Config;
  /** preHandlers of a POST from a form: same origin is checked earlier; the CSRF token, then the section's scope */
  post: (section: Section) => ((req: FastifyRequest, reply: FastifyReply, done: (err?: Error) => void) => void)[];
  /** preHandler of a page: signed in with a scope that covers the section */
  get: (section: Section) => (req: FastifyRequest, reply: FastifyReply) => Promise<unknown>;
  /** for a multipart form, whose token is read by the handler: does it carry the session's? (false: a 403 page went out) */
  csrfPasses: (req: FastifyRequest, reply: FastifyReply, token: string | undefined) => boolean;
  viewer: (req: FastifyRequest, reply: FastifyReply) => Viewer;
  /** the one-time message, read once */
  notice: (req: FastifyRequest) => string | null;
  sendPage: (reply: FastifyReply, status: number, body: string) => FastifyReply;
}

export const deskPlugin: FastifyPluginAsync<{ desk: DeskServices; config: Config }> = async (app, { desk, config }) => {
  const ownOrigin = new URL(config.apiUrl).origin;
  const csp = deskCsp(new URL(config.siteUrl).origin);
  // the cookie-signing key lives in the database (one for all processes); read at the first request, not while the app is built
  let signer: Signer | undefined;
  app.addHook('onRequest', async () => {
    signer ??= new Signer(await desk.signingKey());
  });
  await app.register(fastifyCookie);
  await app.register(fastifySession, {
    secret: { sign: (value: string) => signer!.sign(value), unsign: (value: string) => signer!.unsign(value) },
    store: desk.sessions,
    cookieName: COOKIE,
    // a row only once something is kept (the CSRF secret of the sign-in form, then the sign-in)
    saveUninitialized: false,
    // every answer moves the expiry on: DESK_IDLE without a request ends the session
    rolling: true,
    // Secure is set per request below (over https); the plugin's own 'auto' would make the cookie SameSite=Lax over http
    cookie: { path: DESK, httpOnly: true, sameSite: 'strict', secure: false, maxAge: config.deskIdleMs },
  });
  await app.register(fastifyCsrf, { sessionPlugin: '@fastify/session', getToken: (req) => (req.body as { _csrf?: string } | undefined)?._csrf });

  app.addHook('onRequest', async (req, reply) => {
    reply.header('content-security-policy', csp).header('cache-control', 'no-store').header('x-robots-tag', 'noindex');
    // not helmet's no-referrer: under it a browser sends `Origin: null` with a form, and the check below needs the origin
    reply.header('referrer-policy', 'same-origin');
    if (req.method !== 'POST') return;
    // a form posted from another origin is refused before its body is read
    const from = req.headers.origin ?? (req.headers.referer ? URL.parse(req.headers.referer)?.origin : undefined);
    if (!from || (from !== ownOrigin && from !== `${req.protocol}://${req.host}`)) {
      throw new AppError('forbidden', 'This form did not come from the desk (its Origin is another site, or unknown).');
    }
  });

  // who is signed in: the session names a token, which must still be live
  const secureOverHttps = (req: FastifyRequest) => {
    if (req.protocol === 'https' && req.session.cookie.secure !== true) req.session.options({ secure: true });
  };
  app.addHook('preHandler', async (req) => {
    secureOverHttps(req);
    const id = req.session.tokenId;
    if (id === undefined) return;
    const token = await desk.liveToken(id);
    if (token) req.deskToken = token;
    else req.session.tokenId = undefined;
  });

  const sendPage = (reply: FastifyReply, status: number, body: string) => reply.code(status).type('text/html; charset=utf-8').send(body);
  const viewer = (req: FastifyRequest, reply: FastifyReply): Viewer => ({
    name: req.deskToken!.name,
    scope: req.deskToken!.scope,
    csrf: reply.generateCsrf(),
    zone: req.session.zone ?? 'UTC',
  });
  const allowed = (req: FastifyRequest, section: Section) => {
    if (!req.deskToken) throw new AppError('unauthorized', 'Your session ended (signed out, idle too long, or the token was revoked). Sign in again.');
    if (!scopeAllows(req.deskToken.scope, SECTION_SCOPE[section])) {
      throw new AppError('forbidden', `This part of the desk needs a token of scope “${SECTION_SCOPE[section]}” (or “admin”); “${req.deskToken.name}” has “${req.deskToken.scope}”.`);
    }
  };
  const ctx: DeskContext = {
    desk,
    config,
    sendPage,
    viewer,
    notice: (req) => {
      const n = req.session.notice ?? null;
      if (n) req.session.notice = undefined;
      return n;
    },
    get: (section) => async (req, reply) => {
      if (!req.deskToken) return reply.redirect(`${DESK}/`, 303);
      allowed(req, section);
    },
    post: (section) => [
      app.csrfProtection,
      (req, _reply, done) => {
        try {
          allowed(req, section);
          done();
        } catch (e) {
          done(e as Error);
        }
      },
    ],
    csrfPasses: (req, reply, token) => {
      let ok = false;
      (req as { body: unknown }).body = { _csrf: token };
      app.csrfProtection(req, reply, () => (ok = true));
      return ok;
    },
  };

  // failures are pages too: the desk's readers are people
  app.setErrorHandler(async (err: Error & { statusCode?: number; code?: string }, req, reply) => {
    const app_ = err instanceof AppError ? err : null;
    const status = app_?.status ?? (err.statusCode && err.statusCode >= 400 && err.statusCode < 600 ? err.statusCode : 500);
    if (status >= 500) req.log.error({ err }, 'desk: request failed');
    const csrf = typeof err.code === 'string' && err.code.startsWith('FST_CSRF');
    const title = csrf || status === 403 ? 'Refused' : status === 401 ? 'Signed out' : status === 404 ? 'Not found' : status >= 500 ? 'Something failed' : 'Not done';
    const detail = csrf
      ? 'This form is out of date or did not come from the desk, so nothing was done. Go back, reload the page and send it again.'
      : status >= 500
        ? `Something failed on the server; nothing you sent is to blame (request ${req.id}).`
        : (app_?.detail ?? err.message);
    const v = req.deskToken ? viewer(req, reply) : undefined;
    return sendPage(reply, status, errorPage({ status, title, detail, viewer: v }));
  });

  app.get('/assets/:name', { schema: { hide: true } }, async (req, reply) => {
    const asset = ASSETS[(req.params as { name: string }).name as keyof typeof ASSETS];
    if (!asset) throw new AppError('not-found', 'No such file.');
    return reply.type(asset.type).header('cache-control', 'public, max-age=300').send(asset.body);
  });

  // the sign-in form, or (signed in) the first section the token may see
  app.get('/', { schema: { hide: true } }, async (req, reply) => {
    const token = req.deskToken;
    if (token) {
      const first = (['articles', 'moderation', 'outbox'] as const).find((s) => scopeAllows(token.scope, SECTION_SCOPE[s]))!;
      return reply.redirect(`${DESK}/${first}`, 303);
    }
    return sendPage(reply, 200, signInPage({ csrf: reply.generateCsrf() }));
  });

  app.post('/signin', { schema: { hide: true }, preHandler: app.csrfProtection }, async (req, reply) => {
    const given = (req.body as { token?: unknown } | undefined)?.token;
    const token = typeof given === 'string' ? await desk.verifyToken(given.trim()) : null;
    if (!token || token.expired) {
      return sendPage(reply, 401, signInPage({ csrf: reply.generateCsrf(), error: token ? 'That token has expired; create a new one.' : 'That token is unknown or revoked.' }));
    }
    await desk.sessions.sweep();
    // a new session id at sign-in: one planted before it is worth nothing
    await req.session.regenerate();
    secureOverHttps(req);
    req.session.tokenId = token.id;
    return reply.redirect(`${DESK}/`, 303);
  });

  app.post('/signout', { schema: { hide: true }, preHandler: app.csrfProtection }, async (req, reply) => {
    await req.session.destroy();
    reply.clearCookie(COOKIE, { path: DESK });
    return reply.redirect(`${DESK}/`, 303);
  });

  await app.register(async (scope: FastifyInstance) => articleRoutes(scope, ctx));
  await app.register(async (scope: FastifyInstance) => moderationRoutes(scope, ctx));
  await app.register(async (scope: FastifyInstance) => outboxRoutes(scope, ctx));
};

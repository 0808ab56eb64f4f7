// The desk's session without a browser (app.inject): the cookie over https, idle expiry
// and revocation end a session, a sign-in form without its CSRF token or from another
// origin is refused, a session shared by two processes on one database, and the
// time-zone arithmetic of the schedule field.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql } from 'drizzle-orm';
import { pino } from 'pino';
import { buildApp } from '../../src/app.ts';
import { compose } from '../../src/compose.ts';
import { revokeToken, createToken } from '../../src/auth/tokens.service.ts';
import { localToUtc, utcToLocal } from '../../src/desk/time.ts';
import { createTestApp, type TestApp } from '../helpers/app.ts';
import { testConfig } from '../../src/config.ts';
import { multipart, photo, tempDir } from '../media/support.ts';

const API = 'http://api.test';
const form = (fields: Record<string, string>) => new URLSearchParams(fields).toString();
const cookieOf = (setCookie: string | string[] | undefined) => String(Array.isArray(setCookie) ? setCookie[0] : setCookie).split(';')[0];

describe('the desk session', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp({ trustProxy: true, media: { ...testConfig().media, dir: tempDir() } });
  });
  afterAll(() => t?.close());

  /** the sign-in form: its cookie and CSRF token */
  async function signInForm(headers: Record<string, string> = {}) {
    const res = await t.app.inject({ url: '/desk/', headers });
    return { cookie: cookieOf(res.headers['set-cookie']), csrf: /name="_csrf" value="([^"]+)"/.exec(res.body)![1], res };
  }
  async function signIn(token: string, headers: Record<string, string> = {}) {
    const { cookie, csrf } = await signInForm(headers);
    const res = await t.app.inject({
      method: 'POST',
      url: '/desk/signin',
      headers: { ...headers, cookie, origin: headers['x-forwarded-proto'] === 'https' ? 'https://api.test' : API, 'content-type': 'application/x-www-form-urlencoded' },
      payload: form({ _csrf: csrf, token }),
    });
    expect(res.statusCode).toBe(303);
    return { cookie: cookieOf(res.headers['set-cookie']), setCookie: String(res.headers['set-cookie']) };
  }
  const articles = (cookie: string) => t.app.inject({ url: '/desk/articles', headers: { cookie } });

  it('over https the cookie is Secure; over http it is not; both HttpOnly and SameSite=Strict, on /desk only', async () => {
    const https = await signIn(t.token, { 'x-forwarded-proto': 'https', host: 'api.test' });
    expect(https.setCookie).toMatch(/; HttpOnly/);
    expect(https.setCookie).toMatch(/; Secure/);
    expect(https.setCookie).toMatch(/; SameSite=Strict/);
    expect(https.setCookie).toMatch(/; Path=\/desk/);
    const http = await signIn(t.token);
    expect(http.setCookie).not.toMatch(/; Secure/);
    expect(http.setCookie).toMatch(/; SameSite=Strict/);
    expect((await articles(http.cookie)).statusCode).toBe(200);
  });

  it('ends after DESK_IDLE without a request, and when its token is revoked', async () => {
    const idle = await signIn(t.token);
    expect((await articles(idle.cookie)).statusCode).toBe(200);
    // the idle time passes (the row's expiry is what every request moves on)
    await t.database.db.execute(sql`update desk_sessions set expires_at = now() - interval '1 second'`);
    const after = await articles(idle.cookie);
    expect(after.statusCode).toBe(303);
    expect(after.headers.location).toBe('/desk/');

    const { token } = await createToken(t.database.db, 'soon-revoked');
    const s = await signIn(token);
    expect((await articles(s.cookie)).statusCode).toBe(200);
    expect(await revokeToken(t.database.db, 'soon-revoked')).toBe(1);
    expect((await articles(s.cookie)).statusCode).toBe(303);
  });

  it('refuses a sign-in without the form’s CSRF token, or from another origin (403 pages)', async () => {
    const { cookie, csrf } = await signInForm();
    const post = (headers: Record<string, string>, fields: Record<string, string>) =>
      t.app.inject({ method: 'POST', url: '/desk/signin', headers: { cookie, 'content-type': 'application/x-www-form-urlencoded', ...headers }, payload: form(fields) });
    const noCsrf = await post({ origin: API }, { token: t.token });
    expect(noCsrf.statusCode).toBe(403);
    expect(noCsrf.headers['content-type']).toMatch(/^text\/html/);
    const elsewhere = await post({ origin: 'https://evil.example' }, { _csrf: csrf, token: t.token });
    expect(elsewhere.statusCode).toBe(403);
    const noOrigin = await post({}, { _csrf: csrf, token: t.token });
    expect(noOrigin.statusCode).toBe(403);
    // a Referer of our own origin stands in for a missing Origin
    const referred = await post({ referer: `${API}/desk/` }, { _csrf: csrf, token: t.token });
    expect(referred.statusCode).toBe(303);
  });

  it('uploads a feature image with the form’s CSRF token (and refuses one without)', async () => {
    const s = await signIn(t.token);
    const created = await t.app.inject({ method: 'POST', url: '/v1/admin/articles', headers: t.auth, payload: { title: 'With a picture', markdown: 'Hi.' } });
    const id = created.json().id as number;
    const editor = await t.app.inject({ url: `/desk/articles/${id}`, headers: { cookie: s.cookie } });
    const csrf = /name="_csrf" value="([^"]+)"/.exec(editor.body)![1];
    const image = await photo(64, 48);
    const send = (parts: Parameters<typeof multipart>[0]) => {
      const body = multipart(parts);
      return t.app.inject({ method: 'POST', url: `/desk/articles/${id}/image`, headers: { ...body.headers, cookie: s.cookie, origin: API }, payload: body.payload });
    };
    const file = { name: 'file', filename: 'a.jpg', contentType: 'image/jpeg', data: image };
    expect((await send([{ name: 'alt', data: 'A test picture' }, file])).statusCode).toBe(403);
    expect((await t.app.inject({ url: `/v1/admin/articles/${id}`, headers: t.auth })).json().featureImage).toBeNull();
    const ok = await send([{ name: '_csrf', data: csrf }, { name: 'alt', data: 'A test picture' }, file]);
    expect(ok.statusCode).toBe(303);
    const after = (await t.app.inject({ url: `/v1/admin/articles/${id}`, headers: t.auth })).json();
    expect(after.featureImage).toMatchObject({ alt: 'A test picture', width: 64, height: 48 });
  });

  it('is shared by a second process on the same database', async () => {
    const s = await signIn(t.token);
    const other = await buildApp(compose(t.config, t.database, pino({ level: 'silent' })));
    try {
      expect((await other.inject({ url: '/desk/articles', headers: { cookie: s.cookie } })).statusCode).toBe(200);
    } finally {
      await other.close();
    }
  });
});

describe('the schedule field’s time zones', () => {
  it('turns a wall-clock time in a zone into UTC and back, across daylight saving time', () => {
    expect(localToUtc('2030-06-01T10:00', 'Europe/Berlin')!.toISOString()).toBe('2030-06-01T08:00:00.000Z');
    expect(localToUtc('2030-01-15T10:00', 'Europe/Berlin')!.toISOString()).toBe('2030-01-15T09:00:00.000Z');
    expect(localToUtc('2030-03-10T12:30', 'America/New_York')!.toISOString()).toBe('2030-03-10T16:30:00.000Z');
    expect(localToUtc('2030-06-01T10:00', 'UTC')!.toISOString()).toBe('2030-06-01T10:00:00.000Z');
    expect(localToUtc('not a date', 'UTC')).toBeNull();
    expect(utcToLocal('2030-06-01T08:00:00.000Z', 'Europe/Berlin')).toBe('2030-06-01T10:00');
    expect(utcToLocal('2030-12-31T23:30:00.000Z', 'Asia/Tokyo')).toBe('2031-01-01T08:30');
  });
});

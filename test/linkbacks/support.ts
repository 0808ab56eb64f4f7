// Small helpers shared by the pingback and webmention tests.
import type { TestApp } from '../helpers/app.ts';

export const NO_LIMIT = { max: 100_000, windowMs: 60_000, text: '100000/minute' };

/** Publishes an article through the admin API; returns its id, slug and permalink. */
export async function publish(t: TestApp, body: Record<string, unknown> = {}): Promise<{ id: number; slug: string; url: string }> {
  const res = await t.app.inject({
    method: 'POST',
    url: '/v1/admin/articles',
    headers: t.auth,
    payload: { title: 'A target article', markdown: 'Words worth linking to.', status: 'published', ...body },
  });
  if (res.statusCode !== 201) throw new Error(`publish: ${res.statusCode} ${res.body}`);
  return res.json();
}

/** A pingback.ping call as WordPress's IXR client writes it (indented, typed strings). */
export function pingCall(source: string, target: string, opts: { escape?: boolean } = {}): string {
  const esc = (s: string) => (opts.escape === false ? s : s.replace(/&/g, '&amp;').replace(/</g, '&lt;'));
  return `<?xml version="1.0"?>
<methodCall>
<methodName>pingback.ping</methodName>
<params>
<param><value><string>${esc(source)}</string></value></param>
<param><value><string>${esc(target)}</string></value></param>
</params></methodCall>
`;
}

/** Posts a raw body to /xmlrpc through inject. */
export function postXml(t: TestApp, body: string, contentType = 'text/xml', url = '/xmlrpc') {
  return t.app.inject({ method: 'POST', url, headers: { 'content-type': contentType }, payload: body });
}

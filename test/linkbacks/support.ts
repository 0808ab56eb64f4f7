// Small helpers shared by the pingback and webmention tests.
import type { TestApp } from '../helpers/app.ts';
import { createArticle } from '../helpers/factories.ts';

export { NO_LIMIT } from '../helpers/app.ts';

/** Publishes an article worth linking to (the one article factory); returns its id, slug and permalink. */
export const publish = (t: TestApp, body: Record<string, unknown> = {}) => createArticle(t, { title: 'A target article', markdown: 'Words worth linking to.', ...body });

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

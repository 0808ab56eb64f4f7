// The desk's page shell: landmarks (banner, navigation, main, contentinfo), a skip link,
// one stylesheet and one small external script (the CSP allows no inline script).
import { html, type Markup } from '../../frontend/html.ts';
import type { TokenScope } from '../../auth/tokens.table.ts';
import { scopeAllows } from '../../http/auth.ts';

export const DESK = '/desk';

/** Who is signed in, and the CSRF token every form carries. */
export interface Viewer {
  name: string;
  scope: TokenScope;
  csrf: string;
  zone: string;
}

export type Section = 'articles' | 'moderation' | 'outbox';
/** the scope each section needs: the admin API's routes behind it ask the same */
export const SECTION_SCOPE: Record<Section, TokenScope> = { articles: 'content', moderation: 'moderation', outbox: 'admin' };
const SECTIONS: [Section, string, string][] = [
  ['articles', 'Articles', `${DESK}/articles`],
  ['moderation', 'Moderation', `${DESK}/moderation`],
  ['outbox', 'What went out', `${DESK}/outbox`],
];

export const csrfField = (v: { csrf: string }) => html`<input type="hidden" name="_csrf" value="${v.csrf}">`;

export function page(opts: { title: string; viewer?: Viewer; section?: Section; notice?: string | null; main: Markup }): string {
  const { viewer } = opts;
  const nav = viewer
    ? html`<nav aria-label="Desk"><ul>${SECTIONS.filter(([s]) => scopeAllows(viewer.scope, SECTION_SCOPE[s])).map(
        ([s, label, href]) => html`<li><a href="${href}"${s === opts.section ? html` aria-current="page"` : ''}>${label}</a></li>`,
      )}</ul></nav>
  <div class="who"><span>Signed in as <strong>${viewer.name}</strong> (${viewer.scope})</span>
  <form method="post" action="${DESK}/signout">${csrfField(viewer)}<button type="submit" class="secondary small">Sign out</button></form></div>`
    : '';
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex">
<title>${opts.title} – Inkwell desk</title>
<link rel="stylesheet" href="${DESK}/assets/desk.css">
<link rel="icon" href="data:,">
<script src="${DESK}/assets/desk.js" defer></script>
</head>
<body>
<a class="skip-link" href="#main">Skip to content</a>
<header class="desk-header">
  <p class="brand"><a href="${DESK}/">Inkwell desk</a></p>
  ${nav}
</header>
<main id="main" tabindex="-1">
${opts.notice ? html`<p class="notice" role="status">${opts.notice}</p>` : ''}
${opts.main}
</main>
<footer class="desk-footer"><p>The editor's desk of Inkwell. <a href="/">The site</a> · <a href="/docs">API docs</a></p></footer>
</body>
</html>
`.value;
}

export function signInPage(opts: { csrf: string; error?: string }): string {
  return page({
    title: 'Sign in',
    main: html`<div class="signin">
<h1>Sign in to the desk</h1>
${opts.error ? html`<div class="error-summary" role="alert"><p>${opts.error}</p></div>` : ''}
<form method="post" action="${DESK}/signin">
  ${csrfField(opts)}
  <label for="token">Admin token</label>
  <input type="password" id="token" name="token" autocomplete="current-password" required aria-describedby="token-hint"${opts.error ? html` aria-invalid="true"` : ''}>
  <p class="hint" id="token-hint">A token from <code>npm run cli -- token create --name NAME</code> (the first start prints one). It is checked once; the desk then keeps a session, never the token.</p>
  <button type="submit">Sign in</button>
</form>
</div>`,
  });
}

export function errorPage(opts: { status: number; title: string; detail: string; viewer?: Viewer }): string {
  return page({
    title: opts.title,
    viewer: opts.viewer,
    main: html`<h1>${opts.title}</h1>
<p>${opts.detail}</p>
<p><a href="${DESK}/">Back to the desk</a></p>`,
  });
}

export function pagination(base: string, params: Record<string, string | undefined>, p: { page: number; next?: unknown; prev?: unknown }): Markup {
  const link = (n: number) => {
    const q = new URLSearchParams(Object.entries({ ...params, page: n > 1 ? String(n) : undefined }).filter((e): e is [string, string] => e[1] !== undefined));
    const s = q.toString();
    return s ? `${base}?${s}` : base;
  };
  if (!p.next && !p.prev) return html``;
  return html`<nav class="pagination" aria-label="Pages">${p.prev ? html`<a href="${link(p.page - 1)}" rel="prev">Newer</a>` : ''}${p.next ? html`<a href="${link(p.page + 1)}" rel="next">Older</a>` : ''}</nav>`;
}

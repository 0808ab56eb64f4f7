// The page shell: landmarks (banner, navigation, main, contentinfo), a skip link,
// the feeds and discovery links in <head>, one stylesheet and no script at all.
import type { FeatureImage, Site } from './api.ts';
import { html, safeUrl, type Markup } from './html.ts';

export interface Paths {
  /** the frontend's own path prefix: '' by default, '/blog' when SITE_URL has a path */
  base: string;
  home: string;
  tag(slug: string): string;
  stylesheet: string;
  /** where the reply form posts */
  comment(slug: string): string;
  /** API docs, on the API's origin */
  docs: string;
}

export interface Shell {
  site: Site;
  paths: Paths;
  /** document title; the site title is appended */
  title?: string;
  description?: string;
  canonical?: string;
  /** extra <link>s (pingback, webmention, prev/next) */
  head?: Markup;
  main: Markup;
}

export function layout({ site, paths, title, description, canonical, head, main }: Shell): string {
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${title ? `${title} – ${site.title}` : site.title}</title>
<meta name="description" content="${description ?? site.description}">
${canonical ? html`<link rel="canonical" href="${canonical}">` : ''}
<link rel="stylesheet" href="${paths.stylesheet}">
<link rel="icon" href="${safeUrl(site.icon) ?? 'data:,'}">
<link rel="alternate" type="application/rss+xml" title="${site.title} (RSS)" href="${site.feeds.rss}">
<link rel="alternate" type="application/atom+xml" title="${site.title} (Atom)" href="${site.feeds.atom}">
<link rel="alternate" type="application/feed+json" title="${site.title} (JSON Feed)" href="${site.feeds.json}">
${head}
</head>
<body>
<a class="skip-link" href="#main">Skip to content</a>
<header class="site-header">
  <p class="site-title"><a href="${paths.home}">${site.title}</a></p>
  <p class="site-description">${site.description}</p>
  <nav aria-label="Site">
    <ul>
      <li><a href="${paths.home}">Home</a></li>
      <li><a href="${site.feeds.rss}">Feed</a></li>
      <li><a href="${paths.docs}">API docs</a></li>
    </ul>
  </nav>
</header>
<main id="main" tabindex="-1">
${main}
</main>
<footer class="site-footer">
  ${site.twitter ? html`<p><a href="https://x.com/${site.twitter}" rel="me">Follow us on Twitter</a> (@${site.twitter})</p>` : ''}
  <p>Powered by <a href="${paths.docs}">Inkwell</a>, a headless blog backend. Subscribe by <a href="${site.feeds.rss}">RSS</a>, <a href="${site.feeds.atom}">Atom</a> or <a href="${site.feeds.json}">JSON Feed</a>.</p>
</footer>
</body>
</html>
`.value;
}

const DATE = new Intl.DateTimeFormat('en-GB', { day: 'numeric', month: 'long', year: 'numeric', timeZone: 'UTC' });

/** A <time> readable by people and machines. Dates are shown in UTC, like permalinks. */
export function time(iso: string | null): Markup {
  if (!iso) return html``;
  return html`<time datetime="${iso}">${DATE.format(new Date(iso))}</time>`;
}

/** The column is 672 px wide at most (style.css): browsers pick from srcset by that. */
const COLUMN_SIZES = '(max-width: 720px) 100vw, 672px';

/** A feature image with its responsive sources; `lazy` below the fold (lists), eager at the top of an article. */
export function featureImageMarkup(img: FeatureImage | null | undefined, opts: { lazy: boolean; className: string }): Markup {
  const src = safeUrl(img?.url);
  if (!img || !src) return html``;
  return html`<figure class="${opts.className}"><img src="${src}" srcset="${img.srcset}" sizes="${COLUMN_SIZES}" width="${img.width}" height="${img.height}" alt="${img.alt}"${opts.lazy ? html` loading="lazy"` : html` fetchpriority="high"`} decoding="async"></figure>`;
}

export function plural(n: number, one: string, many: string): string {
  return `${n} ${n === 1 ? one : many}`;
}

export function notFoundPage(site: Site, paths: Paths): string {
  return layout({
    site,
    paths,
    title: 'Page not found',
    main: html`<h1>Page not found</h1>
<p>There is nothing at this address. It may have moved, or it is not published yet.</p>
<p><a href="${paths.home}">Go to the latest articles</a></p>`,
  });
}

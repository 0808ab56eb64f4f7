// Home and tag pages: a page of article summaries and links to the neighbouring pages.
import type { Article, Page, Site } from './api.ts';
import { html, type Markup } from './html.ts';
import { featureImageMarkup, layout, plural, time, type Paths } from './layout.ts';

export interface ListPage {
  site: Site;
  paths: Paths;
  list: Page<Article>;
  /** the page's own path, without ?page= */
  path: string;
  heading: string;
  /** shown above the list (a tag's description) */
  intro?: string;
  /** the document title; none on the home page, which is the site's title */
  title?: string;
}

export function responsesCount(a: Article): number {
  // replies on the networks are part of the conversation; likes and reposts are not responses
  return a.counts.comments + a.counts.pingbacks + a.counts.webmentions + (a.counts.replies ?? 0);
}

function summary(a: Article, paths: Paths): Markup {
  const n = responsesCount(a);
  return html`<li>
<article class="summary" aria-labelledby="a-${a.id}">
  <h2 id="a-${a.id}"><a href="${a.url}">${a.title}</a></h2>
  <p class="meta">${time(a.publishedAt)}${a.author ? html` · by ${a.author.name}` : ''} · <a href="${a.url}#responses">${plural(n, 'response', 'responses')}</a></p>
  ${featureImageMarkup(a.featureImage, { lazy: true, className: 'summary-image' })}
  <p>${a.excerpt}</p>
  ${a.tags.length ? html`<p class="tags">Tagged ${tagLinks(a, paths)}</p>` : ''}
</article>
</li>`;
}

export function tagLinks(a: Article, paths: Paths): Markup {
  return html`${a.tags.map((t, i) => html`${i ? ', ' : ''}<a href="${paths.tag(t.slug)}" rel="tag">${t.name}</a>`)}`;
}

const pageHref = (path: string, page: number) => (page <= 1 ? path : `${path}?page=${page}`);

export function listPage({ site, paths, list, path, heading, intro, title }: ListPage): string {
  const { page, pages, prev, next } = list.meta.pagination;
  const prevHref = prev ? pageHref(path, prev) : null;
  const nextHref = next ? pageHref(path, next) : null;
  const main = html`<h1>${heading}</h1>
${intro ? html`<p class="intro">${intro}</p>` : ''}
${list.data.length
    ? html`<ol class="summaries">${list.data.map((a) => summary(a, paths))}</ol>`
    : html`<p>Nothing published yet.</p>`}
${pages > 1
    ? html`<nav class="pagination" aria-label="Pages">
  ${prevHref ? html`<a rel="prev" href="${prevHref}">← Newer articles</a>` : ''}
  <span>Page ${page ?? 1} of ${pages}</span>
  ${nextHref ? html`<a rel="next" href="${nextHref}">Older articles →</a>` : ''}
</nav>`
    : ''}`;
  return layout({
    site,
    paths,
    title,
    head: html`${prevHref ? html`<link rel="prev" href="${prevHref}">` : ''}${nextHref ? html`<link rel="next" href="${nextHref}">` : ''}`,
    main,
  });
}

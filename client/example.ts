// A frontend reading Inkwell through types generated from openapi/openapi.json
// (`npm run client:types`) and `openapi-fetch`. test/client/typed-client.test.ts
// type-checks this file against the committed document, so it cannot rot.
import createClient from 'openapi-fetch';
import type { paths } from './inkwell-api.d.ts';

const inkwell = createClient<paths>({ baseUrl: 'https://api.example.com' });

/** An index page: no `html`, so the API does not even read the bodies. */
export async function indexPage(tag?: string) {
  const { data, error } = await inkwell.GET('/v1/articles', {
    params: { query: { tag, limit: 10, fields: 'title,slug,excerpt,url,publishedAt' } },
  });
  if (error) throw new Error(`${error.status} ${error.detail}`);
  return { articles: data.data, next: data.meta.pagination.nextCursor };
}

/** One article, or null (a 404 is a problem document, typed too). */
export async function article(slug: string) {
  const { data, response } = await inkwell.GET('/v1/articles/{slug}', { params: { path: { slug } } });
  if (response.status === 404) return null;
  return data ? { title: data.title, html: data.html, url: data.url, comments: data.counts.comments } : null;
}

/** A draft preview (Next.js draft mode, Astro): the article as it is now, any status. */
export async function preview(token: string) {
  const { data } = await inkwell.GET('/v1/preview/{token}', { params: { path: { token } } });
  return data ?? null;
}

/** Delta sync for a static build or a search index: everything that changed since `cursor`. */
export async function changesSince(cursor?: string) {
  const changed: { slug: string; gone: boolean }[] = [];
  let since = cursor;
  for (;;) {
    const { data, error } = await inkwell.GET('/v1/changes', { params: { query: { since, limit: 500 } } });
    if (error) throw new Error(error.detail);
    for (const c of data.data) changed.push({ slug: c.slug, gone: c.change === 'delete' });
    since = data.meta.nextCursor;
    if (!data.data.length) return { changed, cursor: since };
  }
}

// `npm run bench -- --peer-wordpress URL`: the same reads asked of a WordPress site's REST
// API, side by side with Inkwell's cache-miss rows (run.ts prints Inkwell ÷ WordPress): a
// random page of 20 (`/wp-json/wp/v2/posts?per_page=20&page=N`), a random post by id, and
// a two-word search, each a URL drawn at random. WordPress computes every REST answer
// unless a page cache sits in front; say in the figures whether one did.
import { draw, randomPages } from './requests.ts';

export interface WordPressSite {
  /** scheme, host and port */
  origin: string;
  /** the path WordPress lives under ('' at the root, '/blog'…) */
  prefix: string;
  /** pages of 20 posts (X-WP-TotalPages) */
  totalPages: number;
  /** post ids, at most `maxIds` */
  ids: number[];
}

/** Asks the site how many pages of 20 posts it has and which post ids exist. */
export async function probeWordPress(url: string, maxIds = 2000): Promise<WordPressSite> {
  const u = new URL(url);
  const prefix = u.pathname.replace(/\/+$/, '');
  const api = `${u.origin}${prefix}/wp-json/wp/v2/posts`;
  const first = await fetch(`${api}?per_page=20&page=1`);
  if (!first.ok) throw new Error(`${api} answered ${first.status}: a WordPress site with its REST API on is expected`);
  const totalPages = Math.max(1, Number(first.headers.get('x-wp-totalpages')) || 1);
  const ids: number[] = [];
  for (let page = 1; ids.length < maxIds; page++) {
    const res = await fetch(`${api}?per_page=100&page=${page}&_fields=id`);
    if (!res.ok) break;
    const batch = (await res.json()) as { id: number }[];
    ids.push(...batch.map((p) => p.id));
    if (batch.length < 100 || page >= (Number(res.headers.get('x-wp-totalpages')) || page)) break;
  }
  if (!ids.length) throw new Error(`${api} lists no posts`);
  return { origin: u.origin, prefix, totalPages, ids: ids.slice(0, maxIds) };
}

export interface PeerRequests {
  list: string[];
  article: string[];
  search: string[];
}

/** `n` request paths of each kind; `queries` are two-word searches spelled `a+b`. */
export function wordpressRequests(site: WordPressSite, queries: readonly string[], n: number): PeerRequests {
  const api = `${site.prefix}/wp-json/wp/v2/posts`;
  return {
    list: randomPages(site.totalPages, n).map((p) => `${api}?per_page=20&page=${p}`),
    article: draw(site.ids, n).map((id) => `${api}/${id}`),
    search: draw(queries, n).map((q) => `${api}?per_page=20&search=${q}`),
  };
}

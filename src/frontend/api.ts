// The reference frontend is a client of the public contract, like any other
// frontend: it calls the /v1 routes in-process (app.inject) and knows only the
// documented shapes below, never the tables or services. Swapping `inject` for
// `fetch(API_URL + path)` would make it a separate process without other changes.
import type { FastifyInstance, FastifyRequest } from 'fastify';

export interface Site {
  title: string;
  description: string;
  url: string;
  twitter: string | null;
  pingbackUrl: string;
  webmentionUrl: string;
  feeds: { rss: string; atom: string; json: string };
  icon?: string | null;
}

export interface Article {
  id: number;
  slug: string;
  title: string;
  excerpt: string;
  html: string;
  status: string;
  publishedAt: string | null;
  url: string;
  readingTimeMinutes: number;
  author: { slug: string; name: string } | null;
  tags: { slug: string; name: string }[];
  counts: { comments: number; pingbacks: number; webmentions: number; likes?: number; reposts?: number; replies?: number };
  commentsOpen: boolean;
  announcement: { status: string; url: string | null } | null;
  /** where the article was announced (Mastodon, Bluesky, X) */
  syndication: { network: string; url: string }[];
  featureImage?: FeatureImage | null;
}

export interface FeatureImage {
  id: number;
  url: string;
  alt: string;
  width: number;
  height: number;
  srcset: string;
}

export interface Pagination {
  page: number | null;
  pages: number;
  total: number;
  next: number | null;
  prev: number | null;
}

export interface Page<T> {
  data: T[];
  meta: { pagination: Pagination };
}

export interface Tag {
  slug: string;
  name: string;
  description: string;
  count: number;
}

export type Network = 'mastodon' | 'bluesky' | 'x' | 'web';

export interface Response {
  id: number;
  type: 'comment' | 'pingback' | 'webmention' | 'social';
  authorName: string;
  authorUrl: string | null;
  /** sanitised by the API */
  html: string;
  createdAt: string;
  parentId: number | null;
  avatarUrl?: string | null;
  network?: Network | null;
  kind?: 'reply' | 'like' | 'repost' | 'bookmark' | 'mention' | null;
  author?: { name: string; url: string | null; photo: string | null } | null;
  /** social responses: the original post */
  url?: string | null;
}

/** GET /v1/redirects: where an old address went */
export interface Redirect {
  path: string;
  location: string;
  status: 301;
  article: { id: number; slug: string };
}

export interface FieldError {
  pointer: string;
  message: string;
}

/** 201: the comment and its status; 4xx: a problem with `detail` and, for 400, field `errors` */
export interface CommentAnswer {
  id: number;
  status: 'pending' | 'approved';
  detail?: string;
  errors?: FieldError[];
}

export interface Answer<T> {
  status: number;
  headers: Record<string, string | string[] | number | undefined>;
  /** the parsed JSON: T on success, a problem+json object otherwise */
  body: T;
}

export type Query = Record<string, string | number | undefined>;

/** Redirects (a renamed slug's 301) have no body; everything else answers JSON. */
function answer<T>(res: { statusCode: number; headers: Answer<T>['headers']; body: string; json(): unknown }): Answer<T> {
  return { status: res.statusCode, headers: res.headers, body: (res.body ? res.json() : undefined) as T };
}

export function apiClient(app: FastifyInstance) {
  /** the request id travels along, so one page view reads as one story in the logs */
  const passThrough = (req: FastifyRequest) => ({ accept: 'application/json', 'x-request-id': String(req.id) });

  return {
    async get<T>(req: FastifyRequest, path: string, query: Query = {}): Promise<Answer<T>> {
      const qs = new URLSearchParams();
      for (const [k, v] of Object.entries(query)) if (v !== undefined) qs.set(k, String(v));
      const res = await app.inject({ method: 'GET', url: qs.size ? `${path}?${qs}` : path, headers: passThrough(req) });
      return answer<T>(res);
    },

    /**
     * Posts a reader's comment on their behalf. The API's flood limits key on the
     * client address, so the reader's address and user agent go along, not ours.
     */
    async postComment(req: FastifyRequest, slug: string, fields: Record<string, string>): Promise<Answer<CommentAnswer>> {
      const res = await app.inject({
        method: 'POST',
        url: `/v1/articles/${encodeURIComponent(slug)}/comments`,
        remoteAddress: req.ip,
        headers: { ...passThrough(req), 'content-type': 'application/x-www-form-urlencoded', 'user-agent': req.headers['user-agent'] ?? '' },
        payload: new URLSearchParams(fields).toString(),
      });
      return answer<CommentAnswer>(res);
    },
  };
}

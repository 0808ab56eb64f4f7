// What a newcomer meets on the first start of an embedded database: an admin token
// and a welcome article with a sample comment, a reply and a pingback, so every part
// of the reference frontend shows at once. PostgreSQL is never seeded.
import { count } from 'drizzle-orm';
import type { Services } from '../compose.ts';
import type { Config } from '../config.ts';
import type { Db } from '../db/client.ts';
import { apiTokens } from '../auth/tokens.table.ts';
import { createToken } from '../auth/tokens.service.ts';
import { articles } from '../articles/articles.table.ts';
import { ArticlesService } from '../articles/articles.service.ts';
import { PublishingEvents } from '../articles/publishing.ts';
import { responses } from '../comments/responses.table.ts';
import { insertAuthor } from '../taxonomy/taxonomy.repository.ts';

export interface FirstStart {
  adminToken?: string;
}

export async function firstStart(services: Services): Promise<FirstStart> {
  const { database } = services;
  if (database.kind !== 'pglite') return {};
  const db = database.db;
  const [{ n }] = await db.select({ n: count() }).from(apiTokens);
  if (n > 0) return {};
  const { token } = await createToken(db, 'first-start');
  const [{ n: written }] = await db.select({ n: count() }).from(articles);
  if (written === 0) await seedWelcome(services);
  return { adminToken: token };
}

/**
 * The welcome article and its sample conversation. Published through an article
 * service with no publishing listeners: nothing is announced and nothing is pinged,
 * so a first start never reaches the network although the article links out.
 */
export async function seedWelcome(services: Pick<Services, 'config' | 'database' | 'events'>): Promise<{ slug: string; url: string }> {
  const { config } = services;
  const db = services.database.db;
  await insertAuthor(db, { slug: 'inkwell', name: 'The Inkwell team', bio: 'The people behind Inkwell.' });
  const quiet = new ArticlesService({ db, config, publishing: new PublishingEvents(), events: services.events });
  const { article } = await quiet.create({
    title: 'Welcome to Inkwell',
    slug: 'welcome-to-inkwell',
    markdown: welcomeMarkdown(config),
    excerpt: 'Inkwell is running. What it is, where the API documentation lives, how to get a token, and how blogs notify each other with pingbacks and webmentions.',
    tags: ['Inkwell', 'Open web'],
    authorSlug: 'inkwell',
    status: 'published',
    announce: false,
  });
  await sampleConversation(db, article.id, article.url);
  return { slug: article.slug, url: article.url };
}

async function sampleConversation(db: Db, articleId: number, articleUrl: string): Promise<void> {
  // no email on the samples: no avatar, so the first page view fetches nothing from elsewhere
  const [comment] = await db
    .insert(responses)
    .values({
      articleId,
      type: 'comment',
      status: 'approved',
      authorName: 'Ada (a sample reader)',
      html:
        '<p>Hello from a sample comment! Readers reply with the form below, in plain text. ' +
        'Under the default policy a first comment waits for an editor: approve it with <code>PATCH /v1/admin/responses/{id}</code>.</p>',
    })
    .returning({ id: responses.id });
  await db.insert(responses).values({
    articleId,
    type: 'comment',
    status: 'approved',
    parentId: comment.id,
    depth: 1,
    authorName: 'The Inkwell team',
    html: '<p>Thanks, Ada. Replies nest under the comment they answer, like this one.</p>',
  });
  // example.org is reserved for documentation (RFC 2606): an honest stand-in for a real blog
  const source = 'https://example.org/2026/a-neighbouring-blog-post/';
  await db.insert(responses).values({
    articleId,
    type: 'pingback',
    status: 'approved',
    authorName: 'A neighbouring blog (sample pingback)',
    authorUrl: source,
    sourceUrl: source,
    targetUrl: articleUrl,
    html: '<p>[…] when another blog links to an article, its title becomes the author and the words around the link become the excerpt, like this one […]</p>',
  });
}

function welcomeMarkdown(config: Pick<Config, 'apiUrl'>): string {
  const api = config.apiUrl;
  return `Inkwell is running. You are looking at its **reference frontend**: a small server-rendered site built only on the public REST API, the same API your own frontend would use. Edit or delete this article whenever you like.

## What Inkwell is

A headless blog backend. It keeps your articles and the conversation around them (comments, pingbacks and webmentions) in PostgreSQL and serves them as JSON under \`/v1\`. It speaks the protocols blogs use to talk to each other, and it can announce each new article on Twitter/X, exactly once.

## Where the documentation is

Every route is described in an OpenAPI 3.1 document: browse it at [/docs](${api}/docs) or fetch [/openapi.json](${api}/openapi.json). Good first reads are [\`GET /v1/site\`](${api}/v1/site) and [\`GET /v1/articles\`](${api}/v1/articles).

## Getting a token

Reading is public; writing needs a token. The first start printed one on a line of its own, beginning with \`Admin token:\`. It is shown only then, because only its hash is stored. Make more with the CLI (stop the server first: the embedded database belongs to one process):

    npm run cli -- token create --name my-laptop

Send it as \`Authorization: Bearer <token>\` to the \`/v1/admin\` routes to write, publish and moderate.

## How pingbacks and webmentions work

When another blog links to one of your articles, it can tell you so. With a **pingback** it calls the XML-RPC method \`pingback.ping\` at the address every article page advertises in its \`X-Pingback\` header and \`<link rel="pingback">\`. With a **webmention** it posts the two addresses to the endpoint named by \`Link: <…>; rel="webmention"\`. Either way Inkwell fetches the other page, checks that it really links here, and keeps its title and the words around the link: the pingback under this article shows how that looks.

It works the other way too. When you publish, Inkwell finds those endpoints on the pages you link to and notifies them, then retries with backoff when they fail. (This article was created quietly and has notified nobody.) Both protocols are open standards: read the [W3C Webmention Recommendation](https://www.w3.org/TR/webmention/) and the [Pingback 1.0 specification](https://www.hixie.ch/specs/pingback/pingback).
`;
}

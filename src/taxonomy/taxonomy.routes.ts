import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import type { Db } from '../db/client.ts';
import { AppError, notFound } from '../http/errors.ts';
import { ADMIN_SECURITY, problems } from '../http/schemas.ts';
import { isSlug, toSlug } from '../lib/slug.ts';
import * as repo from './taxonomy.repository.ts';
import { isUniqueViolation } from '../db/client.ts';
import type { ContentEvents } from '../events/content-events.ts';

const Tag = Type.Object(
  {
    slug: Type.String(),
    name: Type.String(),
    description: Type.String(),
    count: Type.Integer({ description: 'Published articles with this tag' }),
  },
  { $id: 'Tag', title: 'Tag' },
);
const Author = Type.Object(
  {
    slug: Type.String(),
    name: Type.String(),
    bio: Type.String(),
    url: Type.Union([Type.String(), Type.Null()]),
    count: Type.Integer({ description: 'Published articles by this author' }),
  },
  { $id: 'Author', title: 'Author' },
);
export const taxonomyComponentSchemas = [Tag, Author];

const SlugParam = Type.Object({ slug: Type.String({ maxLength: 200 }) });

export const taxonomyPublicRoutes: FastifyPluginAsyncTypebox<{ db: Db }> = async (app, { db }) => {
  const cache = { publicCache: true };
  app.get(
    '/v1/tags',
    {
      config: cache,
      schema: {
        tags: ['taxonomy'],
        summary: 'List tags',
        description: 'All tags by name, each with the number of published articles.',
        querystring: Type.Object({}, { additionalProperties: false }),
        response: { 200: Type.Object({ data: Type.Array(Type.Ref('Tag')) }), ...problems(400) },
      },
    },
    async () => ({ data: await repo.listTags(db) }),
  );
  app.get(
    '/v1/tags/:slug',
    { config: cache, schema: { tags: ['taxonomy'], summary: 'Get a tag', params: SlugParam, response: { 200: Type.Ref('Tag'), ...problems(404) } } },
    async (req) => (await repo.findTag(db, req.params.slug)) ?? Promise.reject(notFound(`Tag "${req.params.slug}"`)),
  );
  app.get(
    '/v1/authors',
    {
      config: cache,
      schema: {
        tags: ['taxonomy'],
        summary: 'List authors',
        querystring: Type.Object({}, { additionalProperties: false }),
        response: { 200: Type.Object({ data: Type.Array(Type.Ref('Author')) }), ...problems(400) },
      },
    },
    async () => ({ data: await repo.listAuthors(db) }),
  );
  app.get(
    '/v1/authors/:slug',
    { config: cache, schema: { tags: ['taxonomy'], summary: 'Get an author', params: SlugParam, response: { 200: Type.Ref('Author'), ...problems(404) } } },
    async (req) => (await repo.findAuthor(db, req.params.slug)) ?? Promise.reject(notFound(`Author "${req.params.slug}"`)),
  );
};

const SlugField = Type.String({ minLength: 1, maxLength: 120, description: 'Generated from the name when omitted' });
const TagBody = Type.Object(
  { name: Type.String({ minLength: 1, maxLength: 100 }), slug: Type.Optional(SlugField), description: Type.Optional(Type.String({ maxLength: 2000 })) },
  { additionalProperties: false },
);
const AuthorBody = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 200 }),
    slug: Type.Optional(SlugField),
    bio: Type.Optional(Type.String({ maxLength: 5000 })),
    url: Type.Optional(Type.Union([Type.String({ format: 'uri', maxLength: 2000, pattern: '^https?://' }), Type.Null()])),
  },
  { additionalProperties: false },
);

function slugFor(given: string | undefined, name: string): string {
  const slug = given ?? toSlug(name);
  if (!isSlug(slug)) {
    throw new AppError('validation', '/body/slug must be lowercase letters, digits and single dashes', {
      errors: [{ pointer: '/body/slug', message: 'must be lowercase letters, digits and single dashes' }],
    });
  }
  return slug;
}

/** Admin: tags and authors. Mounted under /v1/admin. */
export const taxonomyAdminRoutes: FastifyPluginAsyncTypebox<{ db: Db; events: ContentEvents }> = async (app, { db, events }) => {
  const security = ADMIN_SECURITY;
  for (const kind of ['tags', 'authors'] as const) {
    const isTag = kind === 'tags';
    const Body = isTag ? TagBody : AuthorBody;
    const ref = Type.Ref(isTag ? 'Tag' : 'Author');
    const find = (slug: string) => (isTag ? repo.findTag(db, slug) : repo.findAuthor(db, slug));
    const what = isTag ? 'Tag' : 'Author';
    const changed = (...slugs: string[]) => events.emit(db, { type: 'taxonomy.changed', data: { kind: isTag ? 'tag' : 'author', slugs } });

    app.post(
      `/${kind}`,
      { schema: { tags: ['admin'], summary: `Create ${isTag ? 'a tag' : 'an author'}`, security, body: Body, response: { 201: ref, ...problems(400, 401, 409) } } },
      async (req, reply) => {
        const body = req.body as { name: string; slug?: string; description?: string; bio?: string; url?: string | null };
        const slug = slugFor(body.slug, body.name);
        const ok = isTag ? await repo.insertTag(db, { ...body, slug }) : await repo.insertAuthor(db, { ...body, slug });
        if (!ok) throw new AppError('conflict', `${what} "${slug}" already exists.`);
        await changed(slug);
        return reply.code(201).send(await find(slug));
      },
    );
    app.patch(
      `/${kind}/:slug`,
      {
        schema: {
          tags: ['admin'],
          summary: `Update ${isTag ? 'a tag' : 'an author'}`,
          security,
          params: SlugParam,
          body: Type.Partial(Body, { additionalProperties: false, minProperties: 1 }),
          response: { 200: ref, ...problems(400, 401, 404, 409) },
        },
      },
      async (req) => {
        const body = req.body as { name?: string; slug?: string; description?: string; bio?: string; url?: string | null };
        if (body.slug !== undefined) slugFor(body.slug, '');
        let ok: boolean;
        try {
          ok = isTag ? await repo.updateTag(db, req.params.slug, body) : await repo.updateAuthor(db, req.params.slug, body);
        } catch (e) {
          if (isUniqueViolation(e)) {
            throw new AppError('conflict', `${what} "${body.slug}" already exists.`);
          }
          throw e;
        }
        if (!ok) throw notFound(`${what} "${req.params.slug}"`);
        await changed(req.params.slug, ...(body.slug ? [body.slug] : []));
        return (await find(body.slug ?? req.params.slug))!;
      },
    );
    app.delete(
      `/${kind}/:slug`,
      {
        schema: {
          tags: ['admin'],
          summary: `Delete ${isTag ? 'a tag' : 'an author'}`,
          description: isTag ? 'Articles keep existing without the tag.' : 'Their articles keep existing without an author.',
          security,
          params: SlugParam,
          response: { 204: Type.Null(), ...problems(401, 404) },
        },
      },
      async (req, reply) => {
        const ok = isTag ? await repo.deleteTag(db, req.params.slug) : await repo.deleteAuthor(db, req.params.slug);
        if (!ok) throw notFound(`${what} "${req.params.slug}"`);
        await changed(req.params.slug);
        return reply.code(204).send(null);
      },
    );
  }
};

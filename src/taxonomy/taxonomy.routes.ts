import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { ADMIN_SECURITY, problems } from '../http/schemas.ts';
import { AuthorBody, AuthorRef, TagBody, TagRef } from './taxonomy.schemas.ts';
import type { TaxonomyService } from './taxonomy.service.ts';

const SlugParam = Type.Object({ slug: Type.String({ maxLength: 200 }) });

export const taxonomyPublicRoutes: FastifyPluginAsyncTypebox<{ taxonomy: TaxonomyService }> = async (app, { taxonomy }) => {
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
        response: { 200: Type.Object({ data: Type.Array(TagRef) }), ...problems(400) },
      },
    },
    async () => ({ data: await taxonomy.listTags() }),
  );
  app.get(
    '/v1/tags/:slug',
    { config: cache, schema: { tags: ['taxonomy'], summary: 'Get a tag', params: SlugParam, response: { 200: TagRef, ...problems(404) } } },
    async (req) => taxonomy.get('tag', req.params.slug),
  );
  app.get(
    '/v1/authors',
    {
      config: cache,
      schema: {
        tags: ['taxonomy'],
        summary: 'List authors',
        querystring: Type.Object({}, { additionalProperties: false }),
        response: { 200: Type.Object({ data: Type.Array(AuthorRef) }), ...problems(400) },
      },
    },
    async () => ({ data: await taxonomy.listAuthors() }),
  );
  app.get(
    '/v1/authors/:slug',
    { config: cache, schema: { tags: ['taxonomy'], summary: 'Get an author', params: SlugParam, response: { 200: AuthorRef, ...problems(404) } } },
    async (req) => taxonomy.get('author', req.params.slug),
  );
};

/** Admin: tags and authors. Mounted under /v1/admin. */
export const taxonomyAdminRoutes: FastifyPluginAsyncTypebox<{ taxonomy: TaxonomyService }> = async (app, { taxonomy }) => {
  const security = ADMIN_SECURITY;
  const routes = [
    { path: 'tags', kind: 'tag', a: 'a tag', Body: TagBody, ref: TagRef, deletes: 'Articles keep existing without the tag.' },
    { path: 'authors', kind: 'author', a: 'an author', Body: AuthorBody, ref: AuthorRef, deletes: 'Their articles keep existing without an author.' },
  ] as const;
  for (const { path, kind, a, Body, ref, deletes } of routes) {
    app.post(
      `/${path}`,
      { schema: { tags: ['admin'], summary: `Create ${a}`, security, body: Body, response: { 201: ref, ...problems(400, 401, 409) } } },
      async (req, reply) => reply.code(201).send(await taxonomy.create(kind, req.body)),
    );
    app.patch(
      `/${path}/:slug`,
      {
        schema: {
          tags: ['admin'],
          summary: `Update ${a}`,
          security,
          params: SlugParam,
          body: Type.Partial(Body, { additionalProperties: false, minProperties: 1 }),
          response: { 200: ref, ...problems(400, 401, 404, 409) },
        },
      },
      async (req) => taxonomy.update(kind, req.params.slug, req.body),
    );
    app.delete(
      `/${path}/:slug`,
      {
        schema: { tags: ['admin'], summary: `Delete ${a}`, description: deletes, security, params: SlugParam, response: { 204: Type.Null(), ...problems(401, 404) } },
      },
      async (req, reply) => {
        await taxonomy.remove(kind, req.params.slug);
        return reply.code(204).send(null);
      },
    );
  }
};

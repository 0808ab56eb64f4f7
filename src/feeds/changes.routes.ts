import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { DateTime, problems } from '../http/schemas.ts';
import type { ChangesService } from './changes.service.ts';

const Change = Type.Object(
  {
    cursor: Type.String({ description: 'Pass as `since` to continue after this entry' }),
    kind: Type.Literal('article'),
    id: Type.Integer(),
    slug: Type.String({ description: 'The current slug (the last one, for a tombstone)' }),
    change: Type.Union([Type.Literal('upsert'), Type.Literal('delete')], { description: '`upsert`: read the article again; `delete`: it is no longer public (unpublished or deleted)' }),
    at: DateTime('When the change was made'),
  },
  { $id: 'Change', title: 'Change' },
);
export const changesComponentSchemas = [Change];

export const changesRoutes: FastifyPluginAsyncTypebox<{ changes: ChangesService }> = async (app, { changes }) => {
  app.get(
    '/v1/changes',
    {
      config: { publicCache: true },
      schema: {
        tags: ['articles'],
        summary: 'Changes to published content, in commit order (delta sync)',
        description:
          'Each public or once-public article appears once, as its latest change: walking from no cursor to the end yields every published article exactly once, and `delete` tombstones (kept at least 30 days) for those that stopped being public. ' +
          'An edit, or a new or removed response on a published article, is an `upsert`. `since` is exclusive; `meta.nextCursor` is always the cursor to continue from (at the end, the one to poll again with). ' +
          'The cursor is safe with several processes writing: an entry is listed only once every transaction older than it has finished, so none can appear behind a cursor already handed out.',
        querystring: Type.Object(
          {
            since: Type.Optional(Type.String({ maxLength: 64, description: 'A `cursor` or `meta.nextCursor` of an earlier answer; omitted: from the beginning' })),
            limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, default: 100 })),
          },
          { additionalProperties: false },
        ),
        response: {
          200: Type.Object({ data: Type.Array(Type.Ref('Change')), meta: Type.Object({ nextCursor: Type.String({ description: 'Continue (or poll again) with `since=` this' }) }) }),
          ...problems(400, 503),
        },
      },
    },
    async (req) => changes.list(req.query),
  );
};

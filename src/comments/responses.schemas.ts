// The conversation's shapes, written once: the route schemas and the service's types (Static<>) come from here.
import { Type, type Static } from 'typebox';
import { literalUnion, Nullable, typedRef } from '../http/schemas.ts';
import { RESPONSE_STATUSES, RESPONSE_TYPES, SOCIAL_KINDS, SOCIAL_NETWORKS } from './responses.table.ts';

export const TypeSchema = literalUnion(RESPONSE_TYPES);
export const KindSchema = literalUnion(SOCIAL_KINDS, { description: 'Social responses: what the reaction is' });
const NetworkSchema = literalUnion(SOCIAL_NETWORKS, { description: 'Social responses: where it happened (`web`: a webmention with microformats)' });
export const StatusSchema = literalUnion(RESPONSE_STATUSES);

const responseFields = {
  id: Type.Integer(),
  type: TypeSchema,
  authorName: Type.String({ description: 'Plain text: escape it. For pingbacks and webmentions, the source page’s title' }),
  authorUrl: Nullable(Type.String({ description: 'The commenter’s site, or the source page of a pingback/webmention' })),
  html: Type.String({ description: 'Sanitised HTML, safe to render as is. Links carry rel="nofollow ugc". Pingbacks: "[…] excerpt […]"' }),
  createdAt: Type.String({ format: 'date-time' }),
  parentId: Nullable(Type.Integer({ description: 'The response this one replies to (threads)' })),
  avatarUrl: Nullable(Type.String({ description: 'Gravatar (SHA-256 of the email) for comments; the email itself is never public' })),
  network: Nullable(NetworkSchema),
  kind: Nullable(KindSchema),
  author: Nullable(
    Type.Object(
      {
        name: Type.String({ description: 'Plain text: escape it' }),
        url: Nullable(Type.String({ description: 'The author’s profile' })),
        photo: Nullable(Type.String({ description: 'The author’s picture on its own host: proxy it or cap its size before showing it' })),
      },
      { description: 'Social responses: who reacted' },
    ),
  ),
  url: Nullable(Type.String({ description: 'Social responses: the original post' })),
};

const ResponseSchema = Type.Object(responseFields, { $id: 'Response', title: 'Response' });
const AdminResponseSchema = Type.Object(
  {
    ...responseFields,
    status: StatusSchema,
    articleId: Type.Integer(),
    articleSlug: Type.String(),
    articleTitle: Type.String(),
    authorEmail: Nullable(Type.String()),
    sourceUrl: Nullable(Type.String()),
    targetUrl: Nullable(Type.String()),
    ip: Nullable(Type.String()),
    userAgent: Nullable(Type.String()),
    updatedAt: Type.String({ format: 'date-time' }),
  },
  { $id: 'AdminResponse', title: 'AdminResponse' },
);
export const responseComponentSchemas = [ResponseSchema, AdminResponseSchema];
export type PublicResponse = Static<typeof ResponseSchema>;
export type AdminResponse = Static<typeof AdminResponseSchema>;
export const ResponseRef = typedRef(ResponseSchema);
export const AdminResponseRef = typedRef(AdminResponseSchema);

/** What a posted comment answers: the response, and whether it is public (a comment held as spam is shown as pending). */
export const PostedComment = Type.Object({ ...responseFields, status: literalUnion(['pending', 'approved']), message: Type.String() });
export type PostedCommentView = Static<typeof PostedComment>;

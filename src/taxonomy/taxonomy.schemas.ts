// Tags and authors: the shapes, written once (route schemas; the service's types are their Static<>).
import { Type, type Static } from 'typebox';
import { typedRef } from '../http/schemas.ts';
import { ERROR_MESSAGE_KEYWORD } from '../http/problem.plugin.ts';
import { SLUG_MAX, SLUG_MESSAGE, SLUG_PATTERN } from '../lib/slug.ts';

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
export type TagView = Static<typeof Tag>;
export type AuthorView = Static<typeof Author>;
export const TagRef = typedRef(Tag);
export const AuthorRef = typedRef(Author);

const SlugField = Type.String({ minLength: 1, maxLength: SLUG_MAX, pattern: SLUG_PATTERN, [ERROR_MESSAGE_KEYWORD]: SLUG_MESSAGE, description: 'Generated from the name when omitted' });
export const TagBody = Type.Object(
  { name: Type.String({ minLength: 1, maxLength: 100 }), slug: Type.Optional(SlugField), description: Type.Optional(Type.String({ maxLength: 2000 })) },
  { additionalProperties: false },
);
export const AuthorBody = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 200 }),
    slug: Type.Optional(SlugField),
    bio: Type.Optional(Type.String({ maxLength: 5000 })),
    url: Type.Optional(Type.Union([Type.String({ format: 'uri', maxLength: 2000, pattern: '^https?://' }), Type.Null()])),
  },
  { additionalProperties: false },
);
export type TagInput = Static<typeof TagBody>;
export type AuthorInput = Static<typeof AuthorBody>;

// Schemas shared by every route: the problem body and the error responses built on it,
// the pagination block of every list, and small helpers for the rest.
import { Type, type Static, type TLiteral, type TSchema, type TSchemaOptions, type TUnion } from 'typebox';

export const DateTime = (description: string) => Type.String({ format: 'date-time', description });
export const Nullable = <T extends Parameters<typeof Type.Union>[0][number]>(s: T) => Type.Union([s, Type.Null()]);

type Literals<T extends readonly string[]> = { -readonly [K in keyof T]: TLiteral<T[K]> };

/** A union of string literals from a constant list (the list stays the one spelling; the schema and its type follow it). */
export function literalUnion<const T extends readonly string[]>(values: T, options?: TSchemaOptions): TUnion<Literals<T>> {
  return Type.Union<Literals<T>>(values.map((v) => Type.Literal(v)) as [...Literals<T>], options);
}

/** A `$ref` to a shared component schema that keeps its TypeScript type, so the type provider checks handlers against it. */
export function typedRef<T extends TSchema & { $id?: unknown }>(schema: T, options?: TSchemaOptions) {
  const { $id } = schema;
  if (typeof $id !== 'string') throw new Error('typedRef: the schema has no $id');
  return Type.Unsafe<Static<T>>(Type.Ref($id, options));
}

/** `meta` of every paged list (built by `pageMeta` in lib/pagination.ts) */
export const PaginationMeta = Type.Object(
  {
    pagination: Type.Object({
      page: Nullable(Type.Integer({ description: 'Current page (null when paging with `after`)' })),
      limit: Type.Integer(),
      pages: Type.Integer(),
      total: Type.Integer(),
      next: Nullable(Type.Integer({ description: 'Next page number, null on the last page' })),
      prev: Nullable(Type.Integer()),
      nextCursor: Nullable(Type.String({ description: 'Pass as `after` for the next page by keyset, stable while new items arrive (lists that take `after`; null elsewhere)' })),
      estimated: Type.Optional(
        Type.Literal(true, {
          description:
            'Present (true) when `total`, `pages` and `X-Total-Count` are an estimate, not a count: a search that matches more articles than the server counts exactly (`SEARCH_EXACT_UP_TO`, default 2,000). Show it as "about N results"; a page past the real end is empty.',
        }),
      ),
    }),
  },
  { $id: 'PaginationMeta', title: 'PaginationMeta' },
);
export const PaginationMetaRef = typedRef(PaginationMeta);

/** The query of an editor's queue (outgoing pings, announcements): by status and article, a page at a time. */
export function adminQueueQuery<S extends TSchema>(status: S, articleDescription: string) {
  return Type.Object(
    {
      status: Type.Optional(status),
      article: Type.Optional(Type.Integer({ minimum: 1, description: articleDescription })),
      page: Type.Integer({ minimum: 1, default: 1 }),
      limit: Type.Integer({ minimum: 1, maximum: 100, default: 50 }),
    },
    { additionalProperties: false },
  );
}

export const ProblemSchema = Type.Object(
  {
    type: Type.String({ description: 'URI reference identifying the problem type (`/problems/{code}`)', examples: ['/problems/not-found'] }),
    title: Type.String({ description: 'Short, human-readable summary of the problem type' }),
    status: Type.Integer({ description: 'The HTTP status code' }),
    detail: Type.String({ description: 'What went wrong with this request, for a human' }),
    instance: Type.Optional(Type.String({ description: 'The request path' })),
    requestId: Type.Optional(Type.String({ description: 'Identifies the request in the server logs (also the `X-Request-Id` header)' })),
    errors: Type.Optional(
      Type.Array(
        Type.Object({
          pointer: Type.String({ description: 'Where the invalid value is: `/body/title`, `/query/limit`…' }),
          message: Type.String(),
        }),
        { description: 'Field errors, on validation problems' },
      ),
    ),
  },
  { $id: 'Problem', title: 'Problem', description: 'RFC 9457 problem details; every error answer has this shape (`application/problem+json`).', additionalProperties: true },
);

/** What every /v1/admin route says in OpenAPI: a bearer admin token. */
export const ADMIN_SECURITY = [{ bearerAuth: [] }];

const DESCRIPTIONS: Record<number, string> = {
  400: 'Invalid request: the `errors` array names each bad field',
  401: 'Missing, unknown, revoked or expired admin token',
  403: 'Not allowed (for example comments are closed)',
  404: 'No such resource (or not public)',
  409: 'Conflict with the current state (duplicate slug, duplicate comment…)',
  412: 'The `If-Match` ETag is stale: someone else changed the resource',
  413: 'The request body is too large',
  415: 'Unsupported content type',
  428: 'This write needs `If-Match`',
  429: 'Too many requests; `Retry-After` says when to come back',
  503: 'The database is unreachable; retry shortly',
};

/** Problem responses for the given statuses, for a route's `response` schema. */
export function problems(...statuses: number[]): Record<number, TSchema> {
  const out: Record<number, TSchema> = {};
  for (const s of statuses) out[s] = Type.Ref('Problem', { description: DESCRIPTIONS[s] ?? 'Error' }) as unknown as TSchema;
  return out;
}


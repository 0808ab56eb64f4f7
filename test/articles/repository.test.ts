// The article list query on its own: a filter whose fields are all unset still combines
// with a keyset position into one valid where clause.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../helpers/app.ts';
import { createArticle } from '../helpers/factories.ts';
import { listArticles } from '../../src/articles/articles.repository.ts';

let t: TestApp;
beforeAll(async () => {
  t = await createTestApp();
  for (const title of ['One', 'Two', 'Three']) await createArticle(t, { title });
});
afterAll(() => t.close());

describe('listArticles', () => {
  it('pages by keyset when the filter has keys but no conditions', async () => {
    const first = await listArticles(t.database.db, { filter: { tag: undefined, q: undefined }, order: '-publishedAt', limit: 2 });
    expect(first).toHaveLength(2);
    const last = first[1];
    const rest = await listArticles(t.database.db, { filter: { tag: undefined, q: undefined }, order: '-publishedAt', limit: 2, after: [last.publishedAt!.toISOString(), last.id] });
    expect(rest.map((a) => a.title)).toEqual(['One']);
  });
});

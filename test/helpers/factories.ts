import type { TestApp } from './app.ts';

/** Creates an article through the admin API; returns the admin view. */
export async function createArticle(t: TestApp, body: Record<string, unknown> = {}) {
  const res = await t.app.inject({
    method: 'POST',
    url: '/v1/admin/articles',
    headers: t.auth,
    payload: { title: 'An article', markdown: 'Some words.', status: 'published', ...body },
  });
  if (res.statusCode !== 201) throw new Error(`createArticle: ${res.statusCode} ${res.body}`);
  return res.json() as { id: number; slug: string; url: string; status: string; version: number; [k: string]: unknown };
}

export async function adminRequest(t: TestApp, method: 'GET' | 'POST' | 'PATCH' | 'DELETE', url: string, payload?: unknown, headers: Record<string, string> = {}) {
  return t.app.inject({ method, url, headers: { ...t.auth, ...headers }, ...(payload !== undefined ? { payload: payload as object } : {}) });
}

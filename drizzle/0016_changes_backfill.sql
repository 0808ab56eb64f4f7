-- /v1/changes starts with every article published before it existed: one upsert each,
-- in publication order (the migration's transaction id for all, seq in that order).
INSERT INTO content_changes (article_id, slug, change, xid, seq, at)
SELECT id, slug, 'upsert', (pg_current_xact_id()::text)::bigint, nextval('content_changes_seq'), updated_at
FROM (SELECT id, slug, updated_at FROM articles WHERE status = 'published' ORDER BY published_at, id) published
ON CONFLICT (article_id) DO NOTHING;

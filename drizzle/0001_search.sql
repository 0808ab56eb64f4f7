-- Accent-insensitive, weighted full-text search on articles (title A, excerpt B, body C).
-- unaccent() is only STABLE; this wrapper pins the dictionary so it can be IMMUTABLE.
CREATE EXTENSION IF NOT EXISTS unaccent;
--> statement-breakpoint
CREATE OR REPLACE FUNCTION inkwell_unaccent(text) RETURNS text
  LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT
  AS $$ SELECT public.unaccent('public.unaccent'::regdictionary, $1) $$;
--> statement-breakpoint
CREATE OR REPLACE FUNCTION articles_search_update() RETURNS trigger
  LANGUAGE plpgsql AS $$
BEGIN
  NEW.search :=
    setweight(to_tsvector('english', inkwell_unaccent(coalesce(NEW.title, ''))), 'A') ||
    setweight(to_tsvector('english', inkwell_unaccent(coalesce(NEW.excerpt, ''))), 'B') ||
    setweight(to_tsvector('english', inkwell_unaccent(coalesce(NEW.text, ''))), 'C');
  RETURN NEW;
END
$$;
--> statement-breakpoint
CREATE TRIGGER articles_search_trigger
  BEFORE INSERT OR UPDATE OF title, excerpt, text ON articles
  FOR EACH ROW EXECUTE FUNCTION articles_search_update();

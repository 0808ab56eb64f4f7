CREATE TABLE "redirects" (
	"path" text PRIMARY KEY NOT NULL,
	"article_id" integer NOT NULL,
	"origin" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "wordpress_imports" (
	"site" text NOT NULL,
	"kind" text NOT NULL,
	"wp_id" bigint NOT NULL,
	"local_id" integer NOT NULL,
	"digest" text NOT NULL,
	"stamp" text NOT NULL,
	"imported_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "wordpress_imports_site_kind_wp_id_pk" PRIMARY KEY("site","kind","wp_id")
);
--> statement-breakpoint
ALTER TABLE "redirects" ADD CONSTRAINT "redirects_article_id_articles_id_fk" FOREIGN KEY ("article_id") REFERENCES "public"."articles"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "redirects_article_idx" ON "redirects" USING btree ("article_id");
CREATE TABLE "responses" (
	"id" integer PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "responses_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 2147483647 START WITH 1 CACHE 1),
	"article_id" integer NOT NULL,
	"type" text NOT NULL,
	"status" text DEFAULT 'pending' NOT NULL,
	"parent_id" integer,
	"depth" integer DEFAULT 0 NOT NULL,
	"author_name" text NOT NULL,
	"author_email" text,
	"author_url" text,
	"html" text NOT NULL,
	"source_url" text,
	"target_url" text,
	"ip" text,
	"user_agent" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "responses" ADD CONSTRAINT "responses_article_id_articles_id_fk" FOREIGN KEY ("article_id") REFERENCES "public"."articles"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "responses" ADD CONSTRAINT "responses_parent_id_responses_id_fk" FOREIGN KEY ("parent_id") REFERENCES "public"."responses"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "responses_public_idx" ON "responses" USING btree ("article_id","created_at","id") WHERE "responses"."status" = 'approved';--> statement-breakpoint
CREATE INDEX "responses_admin_idx" ON "responses" USING btree ("status","created_at" DESC NULLS LAST);--> statement-breakpoint
CREATE INDEX "responses_email_idx" ON "responses" USING btree ("author_email") WHERE "responses"."status" = 'approved';--> statement-breakpoint
CREATE INDEX "responses_ip_idx" ON "responses" USING btree ("ip","created_at" DESC NULLS LAST);--> statement-breakpoint
CREATE UNIQUE INDEX "responses_source_idx" ON "responses" USING btree ("article_id","source_url") WHERE "responses"."source_url" IS NOT NULL;
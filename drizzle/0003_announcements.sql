CREATE TABLE "announcement_networks" (
	"network" text PRIMARY KEY NOT NULL,
	"paused_reason" text,
	"paused_at" timestamp with time zone,
	"paused_credentials" text,
	"hold_until" timestamp with time zone,
	"hold_reason" text,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "announcements" (
	"id" integer PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "announcements_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 2147483647 START WITH 1 CACHE 1),
	"article_id" integer,
	"network" text DEFAULT 'x' NOT NULL,
	"text" text NOT NULL,
	"weighted_length" integer NOT NULL,
	"status" text NOT NULL,
	"ambiguous" boolean DEFAULT false NOT NULL,
	"attempts" integer DEFAULT 0 NOT NULL,
	"next_attempt_at" timestamp with time zone,
	"last_attempt_at" timestamp with time zone,
	"last_error" text,
	"tweet_id" text,
	"url" text,
	"job_id" integer,
	"expires_at" timestamp with time zone NOT NULL,
	"posted_at" timestamp with time zone,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "announcements" ADD CONSTRAINT "announcements_article_id_articles_id_fk" FOREIGN KEY ("article_id") REFERENCES "public"."articles"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "announcements_article_network_idx" ON "announcements" USING btree ("article_id","network");--> statement-breakpoint
CREATE INDEX "announcements_status_idx" ON "announcements" USING btree ("status","created_at" DESC NULLS LAST);--> statement-breakpoint
CREATE INDEX "announcements_pending_idx" ON "announcements" USING btree ("network","status") WHERE "announcements"."status" IN ('queued','sending','paused');
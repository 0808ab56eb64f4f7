CREATE TABLE "outgoing_pings" (
	"id" integer PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "outgoing_pings_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 2147483647 START WITH 1 CACHE 1),
	"article_id" integer NOT NULL,
	"source_url" text NOT NULL,
	"target_url" text NOT NULL,
	"reason" text DEFAULT 'linked' NOT NULL,
	"status" text DEFAULT 'queued' NOT NULL,
	"protocol" text,
	"endpoint" text,
	"attempts" integer DEFAULT 0 NOT NULL,
	"last_error" text,
	"result" text,
	"next_attempt_at" timestamp with time zone,
	"job_id" integer,
	"sent_at" timestamp with time zone,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "webmention_requests" (
	"id" text PRIMARY KEY NOT NULL,
	"source" text NOT NULL,
	"target" text NOT NULL,
	"article_id" integer NOT NULL,
	"status" text DEFAULT 'queued' NOT NULL,
	"detail" text,
	"response_id" integer,
	"ip" text,
	"user_agent" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "outgoing_pings" ADD CONSTRAINT "outgoing_pings_article_id_articles_id_fk" FOREIGN KEY ("article_id") REFERENCES "public"."articles"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "webmention_requests" ADD CONSTRAINT "webmention_requests_article_id_articles_id_fk" FOREIGN KEY ("article_id") REFERENCES "public"."articles"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "webmention_requests" ADD CONSTRAINT "webmention_requests_response_id_responses_id_fk" FOREIGN KEY ("response_id") REFERENCES "public"."responses"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "outgoing_pings_article_target_idx" ON "outgoing_pings" USING btree ("article_id","target_url");--> statement-breakpoint
CREATE INDEX "outgoing_pings_status_idx" ON "outgoing_pings" USING btree ("status","updated_at" DESC NULLS LAST);--> statement-breakpoint
CREATE INDEX "webmention_requests_article_idx" ON "webmention_requests" USING btree ("article_id","created_at" DESC NULLS LAST);
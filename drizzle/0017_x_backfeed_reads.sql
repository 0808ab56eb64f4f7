ALTER TABLE "announcement_networks" ADD COLUMN "backfeed_month" text;--> statement-breakpoint
ALTER TABLE "announcement_networks" ADD COLUMN "backfeed_reads" integer DEFAULT 0 NOT NULL;
ALTER TABLE "announcements" RENAME COLUMN "tweet_id" TO "post_id";--> statement-breakpoint
ALTER TABLE "announcement_networks" ADD COLUMN "session" text;--> statement-breakpoint
ALTER TABLE "announcements" ADD COLUMN "remote_key" text;
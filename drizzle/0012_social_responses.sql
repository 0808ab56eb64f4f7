ALTER TABLE "responses" ADD COLUMN "network" text;--> statement-breakpoint
ALTER TABLE "responses" ADD COLUMN "kind" text;--> statement-breakpoint
ALTER TABLE "responses" ADD COLUMN "author_photo" text;--> statement-breakpoint
ALTER TABLE "responses" ADD COLUMN "original_url" text;--> statement-breakpoint
ALTER TABLE "responses" ADD COLUMN "social_key" text;--> statement-breakpoint
CREATE UNIQUE INDEX "responses_social_key_idx" ON "responses" USING btree ("article_id","social_key") WHERE "responses"."social_key" IS NOT NULL;
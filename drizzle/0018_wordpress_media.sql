CREATE TABLE "wordpress_media" (
	"source_url" text PRIMARY KEY NOT NULL,
	"media_id" integer NOT NULL,
	"imported_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "wordpress_media" ADD CONSTRAINT "wordpress_media_media_id_media_id_fk" FOREIGN KEY ("media_id") REFERENCES "public"."media"("id") ON DELETE cascade ON UPDATE no action;
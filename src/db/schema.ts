// Every table of Inkwell, re-exported for Drizzle and drizzle-kit. Tables live beside their domain.
export * from '../taxonomy/taxonomy.table.ts';
export * from '../articles/articles.table.ts';
export * from '../auth/tokens.table.ts';
export * from '../jobs/jobs.table.ts';
export * from '../comments/responses.table.ts';
export * from '../social/announcements/announcements.table.ts';
export * from '../linkbacks/outgoing/outgoing.table.ts';
export * from '../linkbacks/webmention/webmention.table.ts';
export * from '../limits/limits.table.ts';
export * from '../redirects/redirects.table.ts';
export * from '../importers/wordpress/wordpress.table.ts';
export * from '../media/media.table.ts';
export * from '../articles/previews.table.ts';
export * from '../webhooks/webhooks.table.ts';
export * from '../feeds/changes.table.ts';
export * from '../desk/desk.table.ts';
